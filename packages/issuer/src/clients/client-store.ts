import { didYouMean, isPlainObject, isScopeToken } from '@ccflow/core'
import { checkClientJwksUri } from './assertion/client-jwks.js'
import { ASSERTION_ALGORITHMS } from './assertion/assertion-options.js'
import { importClientJwks, rememberClientJwks } from './assertion/inline-keys.js'
import { readClientFileText, readClientFileTextAsync } from './client-file-read.js'
import {
  type JsonFileClientStoreOptions,
  type ClientFileSettings,
  readClientFile,
  resolveClientFileOptions,
} from './client-file.js'
import { CLIENT_KEYS, unknownKey, unknownRecordField } from './client-keys.js'
import { isSecretHash, isSecretId } from './secrets.js'
import type { ClientAuthMethod } from '../events.js'

/**
 * One secret of a client. A client holds several during rotation.
 */
export interface ClientSecret {
  /** Secret id, `[A-Za-z0-9-]{1,32}`; the prefix of a generated secret names it. */
  id: string
  /** Stored form from `hashClientSecret` (`$hmac-sha256$…` or `$scrypt$…`). */
  hash: string
  /** Expiry in epoch seconds; the secret is refused from this instant on. @default never */
  expires_at?: number | undefined
}

/**
 * A registered client. Field names follow RFC 7591 client metadata where one exists.
 *
 * @see RFC 7591 §2
 */
export interface Client {
  /** The client identifier (RFC 6749 §2.2), printable ASCII. */
  client_id: string
  /** Human-readable name (RFC 7591). */
  client_name?: string | undefined
  /** Space-delimited scopes the client may request (RFC 6749 §3.3 scope tokens). */
  scope: string
  /** Scopes granted when a request names none; a subset of `scope`. @default `scope` */
  default_scope?: string | undefined
  /**
   * The one authentication method allowed (RFC 7591 §2). `private_key_jwt` (RFC 7523) needs
   * `jwks` or `jwks_uri` and no `secrets`; the secret methods need `secrets`.
   * @default either secret method
   */
  token_endpoint_auth_method?: ClientAuthMethod | undefined
  /** Grants the client may use (RFC 7591). @default `['client_credentials']` */
  grant_types?: string[] | undefined
  /** Allowed `aud` values (RFC 8707 resources); non-empty, unique. */
  audiences: string[]
  /** Audience when a request names none; one of `audiences`. @default `audiences[0]` */
  default_audience?: string | undefined
  /** Token lifetime in seconds, capped by the endpoint's `maxAccessTokenTtlSeconds`. @default the endpoint's `accessTokenTtlSeconds` */
  access_token_ttl?: number | undefined
  /** A disabled client cannot get tokens. @default false */
  disabled?: boolean | undefined
  /**
   * The client may call the introspection endpoint (RFC 7662), typically a resource server or
   * gateway. Introspecting reveals any token's claims, so grant it sparingly.
   * @default false
   */
  introspection?: boolean | undefined
  /**
   * At least one secret, with unique ids; several during rotation. Required unless the client
   * uses `private_key_jwt`, which has none.
   */
  secrets?: ClientSecret[] | undefined
  /**
   * `private_key_jwt`: the client's public keys, inline (RFC 7591 §2 `jwks`). Public keys only:
   * a key with private members or `use: "enc"` is refused when the record is loaded. Two keys
   * during a rotation. Exactly one of `jwks` and `jwks_uri`.
   */
  jwks?: ClientJwks | undefined
  /**
   * `private_key_jwt`: where the client publishes its public keys (RFC 7591 §2 `jwks_uri`),
   * fetched by the endpoint (https only; see the endpoint's `privateKeyJwt.jwksUri` option).
   * Exactly one of `jwks` and `jwks_uri`.
   */
  jwks_uri?: string | undefined
  /**
   * `private_key_jwt`: the one JWS algorithm the client signs its assertions with (RFC 7591 §2).
   * @default any of the endpoint's `privateKeyJwt.signingAlgorithms`
   */
  token_endpoint_auth_signing_alg?: string | undefined
  /**
   * `private_key_jwt`: longest assertion lifetime accepted from this client, in seconds (1 to
   * 3600), `exp` minus `iat` (or minus now without `iat`).
   * @default the endpoint's `privateKeyJwt.maxAssertionLifetimeSeconds` (300)
   */
  max_assertion_lifetime?: number | undefined
}

/** A JWK Set of public keys (RFC 7517 §5). */
export interface ClientJwks {
  /** The keys, each a public JWK (`kty` RSA, EC or OKP). */
  keys: Record<string, unknown>[]
}

/**
 * Where the token endpoint looks clients up. Implement it to read clients from a database.
 *
 * The endpoint checks every record it gets with {@link validateClient} (once per frozen record,
 * on every lookup otherwise): a record that fails the check (a `disabled: 'true'`, an
 * `expires_at` in milliseconds, an unknown key) gets a generic 500 and a `server_error` event
 * naming the field, never a token.
 */
export interface ClientStore {
  /** The client with this id, or `undefined` (or `null`) when there is none. */
  findClient(clientId: string): Promise<Client | undefined>
}

const SECRET_KEYS = new Set(['id', 'hash', 'expires_at'])
const AUTH_METHODS = new Set(['client_secret_basic', 'client_secret_post', 'private_key_jwt'])
const MAX_ASSERTION_LIFETIME_SECONDS = 3600
const JWKS_KEYS = new Set(['keys'])
// RFC 6749 Appendix A.1: client-id = *VSCHAR (%x20-7E).
const CLIENT_ID = /^[\x20-\x7e]{1,255}$/
// Year 5138 in seconds; anything larger is almost surely milliseconds.
const MAX_EPOCH_SECONDS = 1e11

/**
 * Checks one client record and returns a frozen copy holding only the known fields.
 *
 * Strict on purpose: a misspelt key (`audience` for `audiences`) would otherwise silently widen
 * or narrow what a client may do.
 *
 * @example
 * ```ts
 * const client = validateClient(JSON.parse(text), 'clients.json[0]')
 * ```
 * @param where - Names the record in error messages. @default `'client'`
 * @throws {TypeError} Naming the record and the field: unknown key, wrong type, malformed scope
 *   token, duplicate or empty audience, `default_audience` not in `audiences`, `default_scope` not
 *   within `scope`, no secrets, duplicate secret ids, or a hash not made by `hashClientSecret`.
 * @see RFC 7591 §2, RFC 6749 §3.3
 */
export function validateClient(value: unknown, where = 'client'): Client {
  if (!isPlainObject(value)) throw new TypeError(`${where} must be an object`)
  const clientId = value.client_id
  if (typeof clientId !== 'string' || !CLIENT_ID.test(clientId)) {
    throw new TypeError(`${where}.client_id must be 1-255 printable ASCII characters`)
  }
  const at = `${where} (client_id ${JSON.stringify(clientId)})`
  for (const key of Object.keys(value)) {
    if (!CLIENT_KEYS.has(key)) throw new TypeError(`${at}: ${unknownRecordField(key)}`)
  }

  const scope = checkScope(value.scope, `${at}.scope`)
  if (scope === undefined) throw new TypeError(`${at}.scope is required (a space-delimited string)`)
  const client: Client = {
    client_id: clientId,
    scope,
    audiences: checkAudiences(value.audiences, `${at}.audiences`),
  }
  const method = value.token_endpoint_auth_method
  if (method !== undefined) {
    if (typeof method !== 'string' || !AUTH_METHODS.has(method)) {
      throw new TypeError(
        `${at}.token_endpoint_auth_method must be 'client_secret_basic', 'client_secret_post' ` +
          `or 'private_key_jwt'${didYouMean(method, [...AUTH_METHODS], "'")}`,
      )
    }
    client.token_endpoint_auth_method = method as ClientAuthMethod
  }
  if (method === 'private_key_jwt') {
    checkKeyClient(value, client, at)
  } else {
    for (const field of KEY_FIELDS) {
      if (value[field] !== undefined) {
        throw new TypeError(
          `${at}.${field} is for private_key_jwt clients: set token_endpoint_auth_method to ` +
            `'private_key_jwt' (and give no secrets)`,
        )
      }
    }
    client.secrets = checkSecrets(value.secrets, `${at}.secrets`)
  }

  if (value.client_name !== undefined) {
    if (typeof value.client_name !== 'string') {
      throw new TypeError(`${at}.client_name must be a string`)
    }
    client.client_name = value.client_name
  }
  const defaultScope = checkScope(value.default_scope, `${at}.default_scope`)
  if (defaultScope !== undefined) {
    const allowed = new Set(scope.split(' '))
    for (const token of defaultScope === '' ? [] : defaultScope.split(' ')) {
      if (!allowed.has(token)) {
        throw new TypeError(
          `${at}.default_scope holds ${JSON.stringify(token)}, which is not in scope`,
        )
      }
    }
    client.default_scope = defaultScope
  }
  if (value.grant_types !== undefined) {
    const grants = value.grant_types
    if (!Array.isArray(grants)) throw new TypeError(`${at}.grant_types must be an array`)
    client.grant_types = grants.map((grant, i) => {
      if (typeof grant !== 'string' || grant === '') {
        throw new TypeError(`${at}.grant_types[${i}] must be a non-empty string`)
      }
      return grant
    })
  }
  if (value.default_audience !== undefined) {
    if (
      typeof value.default_audience !== 'string' ||
      !client.audiences.includes(value.default_audience)
    ) {
      throw new TypeError(`${at}.default_audience must be one of audiences`)
    }
    client.default_audience = value.default_audience
  }
  if (value.access_token_ttl !== undefined) {
    const ttl = value.access_token_ttl
    if (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl <= 0) {
      throw new TypeError(`${at}.access_token_ttl must be a positive integer (seconds)`)
    }
    client.access_token_ttl = ttl
  }
  if (value.disabled !== undefined) {
    if (typeof value.disabled !== 'boolean') throw new TypeError(`${at}.disabled must be a boolean`)
    client.disabled = value.disabled
  }
  if (value.introspection !== undefined) {
    if (typeof value.introspection !== 'boolean') {
      throw new TypeError(`${at}.introspection must be a boolean`)
    }
    client.introspection = value.introspection
  }
  return deepFreeze(client)
}

/**
 * A client store over a fixed list, checked once at creation.
 *
 * Lookups go through a `Map`, so ids such as `__proto__` or `toString` find nothing. The records
 * handed out are frozen copies: the caller cannot change the store through them.
 *
 * @example
 * ```ts
 * app.use(tokenEndpoint({ issuer, keys, clients: staticClientStore([{ client_id: 'billing', … }]) }))
 * ```
 * @throws {TypeError} When `clients` is not an array, a record is invalid (see
 *   {@link validateClient}), or two records share a `client_id`.
 */
export function staticClientStore(clients: readonly Client[]): ClientStore {
  const map = buildMap(clients, 'clients')
  return { findClient: (clientId) => Promise.resolve(lookUp(map, clientId)) }
}

/**
 * A client store read from a JSON file holding an array of client records, in the one record
 * format {@link validateClient} checks (`client_id`, `scope`, `audiences`,
 * `secrets: [{ id, hash }]`, …): the file has no format of its own. A field of another format
 * (`audience`, `client_secret_hash`, `client_secret`) is an error that says where its value goes.
 *
 * The file is read and checked synchronously at creation, so a bad file stops the app at startup
 * with the path and the field. `reload()` re-reads it (for example on `SIGHUP`); when the new
 * content is invalid the previous clients stay in force and `reload()` rejects with the error.
 * Warnings go to `onWarning` after each successful load.
 *
 * @example
 * ```ts
 * const clients = jsonFileClientStore('/etc/ccflow/clients.json')
 * process.on('SIGHUP', () => clients.reload().catch((err) => console.error(err)))
 * ```
 * @throws {TypeError} When an option is invalid, or the file is not valid JSON, not an array, or
 *   holds an invalid record (the message starts with the path and the record's position).
 * @throws {Error} When the file cannot be read: one line naming the resolved path, with the
 *   system `code` (`ENOENT`, `EACCES`, …) kept on the error.
 */
export function jsonFileClientStore(
  path: string,
  options?: JsonFileClientStoreOptions,
): ClientStore & { reload(): Promise<void> } {
  if (typeof path !== 'string' || path === '') {
    throw new TypeError('jsonFileClientStore: path must be a non-empty string')
  }
  const file = resolveClientFileOptions(options, 'jsonFileClientStore')
  let map = parseClientFile(readClientFileText('jsonFileClientStore', path), path, file)
  // Serialise reloads so an older read can never overwrite the result of a newer one.
  let pending: Promise<void> = Promise.resolve()
  const reloadOnce = async (): Promise<void> => {
    map = parseClientFile(await readClientFileTextAsync('jsonFileClientStore', path), path, file)
  }
  return {
    findClient: (clientId) => Promise.resolve(lookUp(map, clientId)),
    reload(): Promise<void> {
      const next = pending.then(reloadOnce, reloadOnce)
      pending = next.catch(() => undefined)
      return next
    },
  }
}

/**
 * Reads and checks a clients file exactly as {@link jsonFileClientStore} does, and returns its
 * records: for tools that move the clients elsewhere (`ccflow client import` copies them into
 * PostgreSQL) and must accept exactly the files the server accepts.
 *
 * @example
 * ```ts
 * const clients = readClientsFile('/etc/ccflow/clients.json')
 * console.log(clients.map((client) => client.client_id))
 * ```
 * @returns The checked, frozen records, in file order.
 * @throws {TypeError} As {@link jsonFileClientStore}: an invalid option, not JSON, not an array,
 *   an invalid record or a duplicate `client_id` (the message starts with the path and position).
 * @throws {Error} When the file cannot be read: one line naming the resolved path, with the
 *   system `code` kept on the error.
 */
export function readClientsFile(
  path: string,
  options?: JsonFileClientStoreOptions,
): readonly Client[] {
  if (typeof path !== 'string' || path === '') {
    throw new TypeError('readClientsFile: path must be a non-empty string')
  }
  const file = resolveClientFileOptions(options, 'readClientsFile')
  const map = parseClientFile(readClientFileText('readClientsFile', path), path, file)
  return Object.freeze([...map.values()])
}

function parseClientFile(
  text: string,
  path: string,
  file: ClientFileSettings,
): Map<string, Client> {
  const { records, warnings } = readClientFile(text, path)
  const map = buildMap(records, path)
  for (const warning of warnings) file.onWarning(warning)
  return map
}

function buildMap(clients: readonly unknown[], where: string): Map<string, Client> {
  if (!Array.isArray(clients)) throw new TypeError(`${where} must be an array of clients`)
  const map = new Map<string, Client>()
  clients.forEach((value, i) => {
    const client = validateClient(value, `${where}[${i}]`)
    if (map.has(client.client_id)) {
      throw new TypeError(`${where}[${i}]: duplicate client_id ${JSON.stringify(client.client_id)}`)
    }
    map.set(client.client_id, client)
  })
  return map
}

// Records already checked, by identity. Only deeply frozen records are remembered: a mutable one
// may change after its check (a cache that sets `disabled` in place), so it is checked each time.
const checkedRecords = new WeakMap<object, Client>()

/**
 * Checks a record a {@link ClientStore} returned, as {@link validateClient} does, so that a
 * malformed record from a custom store fails closed instead of reading as "allowed".
 *
 * @returns The checked, frozen copy.
 * @throws {TypeError} For an invalid record; the message names the field, never a hash.
 * @internal
 */
export function checkStoredClient(value: unknown): Client {
  const known = typeof value === 'object' && value !== null ? checkedRecords.get(value) : undefined
  if (known !== undefined) return known
  const client = validateClient(value, 'client store record')
  if (isDeepFrozen(value as Client)) checkedRecords.set(value as object, client)
  return client
}

function isDeepFrozen(client: Client): boolean {
  return (
    Object.isFrozen(client) &&
    (client.secrets === undefined ||
      (Object.isFrozen(client.secrets) &&
        client.secrets.every((secret) => Object.isFrozen(secret)))) &&
    (client.jwks === undefined || isFrozenJson(client.jwks)) &&
    Object.isFrozen(client.audiences) &&
    (client.grant_types === undefined || Object.isFrozen(client.grant_types))
  )
}

function isFrozenJson(value: object): boolean {
  if (!Object.isFrozen(value)) return false
  for (const member of Object.values(value)) {
    if (typeof member === 'object' && member !== null && !isFrozenJson(member as object)) {
      return false
    }
  }
  return true
}

function lookUp(map: Map<string, Client>, clientId: string): Client | undefined {
  return typeof clientId === 'string' ? map.get(clientId) : undefined
}

function checkScope(value: unknown, where: string): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw new TypeError(`${where} must be a space-delimited string`)
  if (value === '') return value
  const seen = new Set<string>()
  for (const token of value.split(' ')) {
    if (!isScopeToken(token)) {
      throw new TypeError(
        `${where} must be scope tokens (RFC 6749 §3.3: no '"', '\\' or control characters) separated by single spaces`,
      )
    }
    if (seen.has(token)) throw new TypeError(`${where} repeats ${JSON.stringify(token)}`)
    seen.add(token)
  }
  return value
}

function checkAudiences(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new TypeError(`${where} must be a non-empty array of strings`)
  }
  const seen = new Set<string>()
  return value.map((aud, i) => {
    if (typeof aud !== 'string' || aud === '') {
      throw new TypeError(`${where}[${i}] must be a non-empty string`)
    }
    if (seen.has(aud)) throw new TypeError(`${where}[${i}] repeats ${JSON.stringify(aud)}`)
    seen.add(aud)
    return aud
  })
}

function checkSecrets(value: unknown, where: string): ClientSecret[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new TypeError(`${where} must be a non-empty array of { id, hash }`)
  }
  const ids = new Set<string>()
  return value.map((secret, i) => {
    const at = `${where}[${i}]`
    if (!isPlainObject(secret)) throw new TypeError(`${at} must be an object`)
    for (const key of Object.keys(secret)) {
      if (!SECRET_KEYS.has(key)) throw new TypeError(`${at}: ${unknownKey(key, SECRET_KEYS)}`)
    }
    const { id, hash, expires_at: expiresAt } = secret
    if (!isSecretId(id)) throw new TypeError(`${at}.id must be 1-32 characters of [A-Za-z0-9-]`)
    if (ids.has(id as string)) throw new TypeError(`${at}.id repeats ${JSON.stringify(id)}`)
    ids.add(id as string)
    // Never echo the hash: a plain-text secret pasted here by mistake must not reach the logs.
    if (!isSecretHash(hash)) {
      throw new TypeError(`${at}.hash must be a hash made by hashClientSecret (never the secret)`)
    }
    const out: ClientSecret = { id: id as string, hash: hash as string }
    if (expiresAt !== undefined) {
      // A value in milliseconds would silently mean "valid for 50 000 years".
      if (typeof expiresAt !== 'number' || !(expiresAt >= 0 && expiresAt < MAX_EPOCH_SECONDS)) {
        throw new TypeError(`${at}.expires_at must be a time in epoch seconds (not milliseconds)`)
      }
      out.expires_at = expiresAt
    }
    return out
  })
}

const KEY_FIELDS = [
  'jwks',
  'jwks_uri',
  'token_endpoint_auth_signing_alg',
  'max_assertion_lifetime',
] as const

/** The fields of a `private_key_jwt` record: its keys and assertion rules, no secrets. */
function checkKeyClient(value: Record<string, unknown>, client: Client, at: string): void {
  if (value.secrets !== undefined) {
    throw new TypeError(
      `${at}.secrets: a private_key_jwt client authenticates with its key, not a secret; ` +
        'remove the secrets (or use a secret method)',
    )
  }
  const { jwks, jwks_uri: jwksUri } = value
  if ((jwks === undefined) === (jwksUri === undefined)) {
    throw new TypeError(`${at}: a private_key_jwt client needs exactly one of jwks and jwks_uri`)
  }
  if (jwks !== undefined) {
    const checked = checkJwks(jwks, `${at}.jwks`)
    rememberClientJwks(checked, importClientJwks(checked, `${at}.jwks`))
    client.jwks = checked
  }
  if (jwksUri !== undefined) {
    // http is let through for a loopback host here; the endpoint refuses it before every fetch
    // unless its privateKeyJwt.jwksUri.allowHttpLoopback is on (a record knows no endpoint).
    checkClientJwksUri(jwksUri, true, `${at}.jwks_uri`)
    client.jwks_uri = jwksUri as string
  }
  const alg = value.token_endpoint_auth_signing_alg
  if (alg !== undefined) {
    if (typeof alg !== 'string' || !(ASSERTION_ALGORITHMS as readonly string[]).includes(alg)) {
      throw new TypeError(
        `${at}.token_endpoint_auth_signing_alg must be one of ${ASSERTION_ALGORITHMS.join(', ')}` +
          sameLetters(alg, ASSERTION_ALGORITHMS),
      )
    }
    client.token_endpoint_auth_signing_alg = alg
  }
  const lifetime = value.max_assertion_lifetime
  if (lifetime !== undefined) {
    if (
      typeof lifetime !== 'number' ||
      !Number.isSafeInteger(lifetime) ||
      lifetime < 1 ||
      lifetime > MAX_ASSERTION_LIFETIME_SECONDS
    ) {
      throw new TypeError(
        `${at}.max_assertion_lifetime must be an integer from 1 to ${MAX_ASSERTION_LIFETIME_SECONDS} (seconds)`,
      )
    }
    client.max_assertion_lifetime = lifetime
  }
}

// Algorithm names one letter apart are different algorithms (HS256, ES256): suggest only a
// name that differs in letter case alone.
function sameLetters(value: unknown, names: readonly string[]): string {
  const lower = typeof value === 'string' ? value.toLowerCase() : undefined
  const match = names.find((name) => name.toLowerCase() === lower)
  return match === undefined ? '' : ` (did you mean "${match}"?)`
}

/** The shape of an inline JWK Set; `importClientJwks` then imports (and judges) each key. */
function checkJwks(value: unknown, where: string): ClientJwks {
  if (!isPlainObject(value)) throw new TypeError(`${where} must be a JWK Set: { "keys": [...] }`)
  for (const key of Object.keys(value)) {
    if (!JWKS_KEYS.has(key)) throw new TypeError(`${where}: ${unknownKey(key, JWKS_KEYS)}`)
  }
  const { keys } = value
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new TypeError(`${where}.keys must be a non-empty array of public JWKs`)
  }
  return {
    keys: keys.map((jwk: unknown, i) => {
      if (!isPlainObject(jwk)) throw new TypeError(`${where}.keys[${i}] must be a JWK object`)
      return { ...jwk }
    }),
  }
}

function deepFreeze(client: Client): Client {
  if (client.secrets !== undefined) {
    for (const secret of client.secrets) Object.freeze(secret)
    Object.freeze(client.secrets)
  }
  if (client.jwks !== undefined) {
    for (const jwk of client.jwks.keys) deepFreezeJson(jwk)
    Object.freeze(client.jwks.keys)
    Object.freeze(client.jwks)
  }
  Object.freeze(client.audiences)
  if (client.grant_types) Object.freeze(client.grant_types)
  return Object.freeze(client)
}

function deepFreezeJson(value: object): void {
  for (const member of Object.values(value)) {
    if (typeof member === 'object' && member !== null) deepFreezeJson(member as object)
  }
  Object.freeze(value)
}
