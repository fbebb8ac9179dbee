/**
 * The token server's configuration, read from the environment and two JSON files.
 * Every problem is a ConfigError naming the variable, file, record and field to fix.
 */
import type { JsonWebKey } from 'node:crypto'
import { readFileSync } from 'node:fs'
import {
  type Client,
  type ClientSecret,
  type SigningKeyInput,
  generateSigningKey,
  hashClientSecret,
  parseSecretId,
  validateClient,
} from '@ccflow/issuer'
import * as env from '../shared/env.js'
import { redisUrl } from '../shared/redis.js'

/** Everything the token server needs to start. */
export interface TokenServerConfig {
  host: string
  port: number
  /** `ISSUER`; `undefined` means `http://HOST:PORT` with the port actually bound. */
  issuer: string | undefined
  clients: Client[]
  /** Private signing keys; the first signs. */
  keys: SigningKeyInput[]
  accessTokenTtlSeconds: number | undefined
  trustProxy: env.TrustProxy
  /** `CCFLOW_SECRET_PEPPER`: the HMAC key the stored hashes were made with, if any. */
  secretPepper: string | undefined
  /** `REDIS_URL`: rate limits and revocations shared by every instance; in-process without. */
  redisUrl: string | undefined
  /** Things the operator should know at startup (plain secrets, ephemeral key). */
  warnings: string[]
}

const RECORD_FIELDS = new Set([
  'client_id',
  'client_name',
  'client_secret',
  'client_secret_hash',
  'client_secret_id',
  'secrets',
  'scope',
  'audience',
  'access_token_ttl',
  'token_endpoint_auth_method',
  'disabled',
  'introspection',
])
const SIGNING_ALGS = new Set(['RS256', 'PS256', 'ES256'])
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1'])

/**
 * Reads `HOST`, `PORT`, `ISSUER`, `CLIENTS_FILE`, `SIGNING_KEYS_FILE`, `ACCESS_TOKEN_TTL`,
 * `TRUST_PROXY`, `CCFLOW_SECRET_PEPPER` and `REDIS_URL`. Plain `client_secret` values are hashed here, so the
 * running server holds hashes only.
 *
 * @throws {env.ConfigError} With a one-line message saying what to fix.
 */
export async function loadTokenServerConfig(vars: env.Env): Promise<TokenServerConfig> {
  const warnings: string[] = []
  // The cheap checks first, so a typo in a variable is reported before any file is read.
  const host = env.host(vars)
  const port = env.port(vars, 4000)
  const issuerVar = env.optional(vars, 'ISSUER')
  const issuer = issuerVar === undefined ? undefined : env.url(issuerVar, 'ISSUER')
  // Clients elsewhere cannot use http://<bind address> as the issuer, and the issuer accepts
  // plain http only on loopback.
  if (issuer === undefined && !LOOPBACK.has(host)) {
    throw new env.ConfigError(
      'ISSUER is required when HOST is not a loopback address (the https URL clients use)',
    )
  }
  const accessTokenTtlSeconds = env.seconds(vars, 'ACCESS_TOKEN_TTL')
  const trustProxy = env.trustProxy(vars)
  const secretPepper = env.optional(vars, 'CCFLOW_SECRET_PEPPER')
  const redis = redisUrl(vars)
  const clientsFile = env.required(vars, 'CLIENTS_FILE', 'a JSON array of client records')
  const clients = await readClientsFile(clientsFile, secretPepper, warnings)
  const keysFile = env.optional(vars, 'SIGNING_KEYS_FILE')
  let keys: SigningKeyInput[]
  if (keysFile === undefined) {
    const { kid, alg, privateKey } = generateSigningKey('RS256')
    keys = [{ kid, alg, privateKey }]
    warnings.push(
      'SIGNING_KEYS_FILE is not set: signing with an ephemeral key, so tokens will not survive ' +
        'a restart (make a key file with `ccflow keygen --out signing-keys.json`)',
    )
  } else {
    keys = readSigningKeysFile(keysFile)
  }
  return {
    host,
    port,
    issuer,
    clients,
    keys,
    accessTokenTtlSeconds,
    trustProxy,
    secretPepper,
    redisUrl: redis,
    warnings,
  }
}

function readJson(path: string, name: string): unknown {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable'
    throw new env.ConfigError(`${name} ${path} cannot be read (${code})`)
  }
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new env.ConfigError(`${name} ${path} is not valid JSON (${(err as Error).message})`)
  }
}

/**
 * Reads `CLIENTS_FILE`: a JSON array of `{ client_id, client_secret | client_secret_hash |
 * secrets, scope, audience: string[], access_token_ttl?, ... }` and maps each record to the
 * issuer's `Client` (RFC 7591 names; `audience[0]` is the default audience).
 */
async function readClientsFile(
  path: string,
  secretPepper?: string,
  warnings: string[] = [],
): Promise<Client[]> {
  const records = readJson(path, 'CLIENTS_FILE')
  if (!Array.isArray(records) || records.length === 0) {
    throw new env.ConfigError(`CLIENTS_FILE ${path} must hold a non-empty JSON array of clients`)
  }
  const seen = new Set<string>()
  const clients: Client[] = []
  for (const [index, record] of records.entries()) {
    const where = `CLIENTS_FILE ${path}: client ${index + 1}`
    const client = await toClient(record, where, secretPepper, warnings)
    if (seen.has(client.client_id)) {
      throw new env.ConfigError(`${where}: client_id "${client.client_id}" is used twice`)
    }
    seen.add(client.client_id)
    clients.push(client)
  }
  return clients
}

async function toClient(
  record: unknown,
  where: string,
  pepper: string | undefined,
  warnings: string[],
): Promise<Client> {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    throw new env.ConfigError(`${where} must be a JSON object`)
  }
  const r = record as Record<string, unknown>
  // A misspelt field (say "audiance") must fail rather than silently widen or narrow access.
  const unknown = Object.keys(r).find((key) => !RECORD_FIELDS.has(key))
  if (unknown !== undefined) throw new env.ConfigError(`${where}: unknown field "${unknown}"`)
  const text = (field: string): string => {
    const value = r[field]
    if (typeof value !== 'string' || value === '') {
      throw new env.ConfigError(`${where}: "${field}" must be a non-empty string`)
    }
    return value
  }
  const clientId = text('client_id')
  const at = `${where} ("${clientId}")`
  const audience = r.audience
  if (
    !Array.isArray(audience) ||
    audience.length === 0 ||
    !audience.every((a) => typeof a === 'string' && a !== '')
  ) {
    throw new env.ConfigError(`${at}: "audience" must be a non-empty array of strings`)
  }
  const given = ['client_secret', 'client_secret_hash', 'secrets'].filter((f) => f in r)
  if (given.length !== 1) {
    throw new env.ConfigError(
      `${at}: give exactly one of "client_secret_hash", "secrets" or (demo only) "client_secret"`,
    )
  }
  let secrets: ClientSecret[]
  if ('secrets' in r) {
    secrets = r.secrets as ClientSecret[] // checked by validateClient below
  } else if ('client_secret' in r) {
    const secret = text('client_secret')
    // The endpoint reads client_secret_basic with passport-http, which splits on every ':'.
    if (secret.includes(':')) {
      warnings.push(
        `${at} has a client_secret holding ":": the client must form-encode it (%3A) before ` +
          'Base64 in HTTP Basic (RFC 6749 §2.3.1), or use client_secret_post',
      )
    }
    warnings.push(
      `${at} has a plain client_secret: fine for a demo, but store client_secret_hash ` +
        '(from `ccflow hash`) in real deployments',
    )
    const hash = await hashClientSecret(secret, pepper === undefined ? {} : { pepper })
    secrets = [{ id: parseSecretId(secret) ?? 'default', hash }]
  } else {
    const id = 'client_secret_id' in r ? text('client_secret_id') : 'default'
    secrets = [{ id, hash: text('client_secret_hash') }]
  }
  const client: Record<string, unknown> = {
    client_id: clientId,
    scope: r.scope,
    audiences: audience,
    default_audience: audience[0],
    secrets,
  }
  for (const field of [
    'client_name',
    'access_token_ttl',
    'token_endpoint_auth_method',
    'disabled',
    'introspection',
  ]) {
    if (field in r) client[field] = r[field]
  }
  try {
    return validateClient(client, at)
  } catch (err) {
    throw new env.ConfigError(err instanceof Error ? err.message : `${at} is invalid`)
  }
}

/**
 * Reads `SIGNING_KEYS_FILE`: a private JWKS whose keys carry `kid` and `alg` (RS256, PS256 or
 * ES256, as `ccflow keygen` writes). The first key signs; the others are published so tokens they
 * signed still verify during a rotation.
 */
function readSigningKeysFile(path: string): SigningKeyInput[] {
  const jwks = readJson(path, 'SIGNING_KEYS_FILE') as { keys?: unknown } | null
  const list = jwks?.keys
  if (!Array.isArray(list) || list.length === 0) {
    throw new env.ConfigError(`SIGNING_KEYS_FILE ${path} must be a JWKS: { "keys": [ ... ] }`)
  }
  return list.map((jwk: unknown, index): SigningKeyInput => {
    const where = `SIGNING_KEYS_FILE ${path}: key ${index + 1}`
    if (typeof jwk !== 'object' || jwk === null) throw new env.ConfigError(`${where} must be a JWK`)
    const { kid, alg, d } = jwk as { kid?: unknown; alg?: unknown; d?: unknown }
    if (typeof kid !== 'string' || kid === '') {
      throw new env.ConfigError(`${where} needs a "kid"`)
    }
    if (typeof alg !== 'string' || !SIGNING_ALGS.has(alg)) {
      throw new env.ConfigError(`${where} needs "alg": "RS256", "PS256" or "ES256"`)
    }
    if (typeof d !== 'string') {
      throw new env.ConfigError(`${where} is not a private key (no "d" member)`)
    }
    // No status: the issuer makes the first key active and publishes the others.
    return { kid, alg: alg as 'RS256' | 'PS256' | 'ES256', privateKey: jwk as JsonWebKey }
  })
}
