import {
  checkFunction,
  checkKnownKeys,
  checkObject,
  isPlainObject,
  type OptionTable,
} from '@ccflow/core'
import { CLIENT_KEYS, unknownKey } from './client-keys.js'
import {
  checkPepperOption,
  hashClientSecretSync,
  isSecretHash,
  isSecretId,
  parseSecretId,
} from './secrets.js'

/**
 * Options of `jsonFileClientStore`.
 */
export interface JsonFileClientStoreOptions {
  /**
   * HMAC key (at least 32 bytes) for hashing the file's plaintext `client_secret` values that are
   * generated (`ccs_…`) secrets. Give the token endpoint the same `secretPepper`.
   * @default none (the fixed key `hashClientSecret` uses without a pepper)
   */
  secretPepper?: string
  /**
   * Receives each warning about the file, on every successful load: a plaintext `client_secret`,
   * one holding `:`, a file without clients.
   * @default `(message) => process.emitWarning(message, { code: 'CCFLOW_CLIENT_FILE' })`
   */
  onWarning?: (message: string) => void
}

/**
 * Resolved {@link JsonFileClientStoreOptions}.
 *
 * @internal
 */
export interface ClientFileSettings {
  readonly secretPepper: string | undefined
  readonly onWarning: (message: string) => void
}

/** File-only names: RFC 7591-style shorthands that a file may use for canonical fields. */
const FILE_KEYS: ReadonlySet<string> = new Set([
  'audience',
  'client_secret',
  'client_secret_hash',
  'client_secret_id',
])
const RECORD_KEYS = [...CLIENT_KEYS, ...FILE_KEYS]
const SECRET_FORMS = ['secrets', 'client_secret_hash', 'client_secret'] as const
const CLIENT_FILE_OPTIONS = {
  secretPepper: true,
  onWarning: true,
} satisfies OptionTable<JsonFileClientStoreOptions>

const emitWarning = (message: string): void => {
  process.emitWarning(message, { code: 'CCFLOW_CLIENT_FILE' })
}

/**
 * Checks the options of `jsonFileClientStore`.
 *
 * @internal
 * @throws {TypeError} Naming `where` and the option: not an object, an unknown option, a pepper
 *   shorter than 32 bytes, an `onWarning` that is not a function.
 */
export function resolveClientFileOptions(options: unknown, where: string): ClientFileSettings {
  if (options === undefined) return { secretPepper: undefined, onWarning: emitWarning }
  const given = checkObject(options, where)
  checkKnownKeys(given, CLIENT_FILE_OPTIONS, where)
  const onWarning = checkFunction(given.onWarning as ClientFileSettings['onWarning'] | undefined, {
    where,
    path: 'onWarning',
  })
  return {
    secretPepper: checkPepperOption(given.secretPepper, where),
    onWarning: onWarning ?? emitWarning,
  }
}

/**
 * Reads the text of a client file: a JSON array of client records in the file format, which is
 * the canonical record plus the shorthands `audience`, `client_secret_hash` (with
 * `client_secret_id`) and, for demos, a plaintext `client_secret` (hashed here).
 *
 * @internal
 * @returns Canonical records, still to be checked by `validateClient`, and the warnings to hand
 *   to `onWarning` once the whole file has loaded.
 * @throws {TypeError} Starting with `path` (and the record's position): not JSON, not an array,
 *   an unknown field, or a file-only field used wrongly.
 */
export function readClientFile(
  text: string,
  path: string,
  settings: ClientFileSettings,
): { records: unknown[]; warnings: string[] } {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (err) {
    throw new TypeError(`${path}: not valid JSON (${(err as Error).message})`, { cause: err })
  }
  if (!Array.isArray(data)) throw new TypeError(`${path}: must hold a JSON array of clients`)
  const warnings: string[] = []
  const records = data.map((value: unknown, i) =>
    toCanonical(value, `${path}[${i}]`, settings.secretPepper, warnings),
  )
  if (records.length === 0) warnings.push(`${path} holds no clients: every client is refused`)
  return { records, warnings }
}

function toCanonical(
  value: unknown,
  where: string,
  pepper: string | undefined,
  warnings: string[],
): unknown {
  // validateClient names what is wrong with a record that is not even an object with an id.
  if (!isPlainObject(value) || typeof value.client_id !== 'string') return value
  const at = `${where} (client_id ${JSON.stringify(value.client_id)})`
  for (const key of Object.keys(value)) {
    if (!CLIENT_KEYS.has(key) && !FILE_KEYS.has(key)) {
      throw new TypeError(`${at}: ${unknownKey(key, RECORD_KEYS)}`)
    }
  }
  const {
    audience,
    client_secret: plain,
    client_secret_hash: hash,
    client_secret_id: secretId,
    ...record
  } = value

  if (audience !== undefined) {
    if (record.audiences !== undefined) {
      throw new TypeError(`${at}: give "audiences" or its alias "audience", not both`)
    }
    if (typeof audience !== 'string' && !Array.isArray(audience)) {
      throw new TypeError(`${at}.audience must be a string or a non-empty array of strings`)
    }
    // The first entry is the default audience, as for `audiences`, unless default_audience says.
    record.audiences = typeof audience === 'string' ? [audience] : audience
  }

  const forms = SECRET_FORMS.filter((form) => value[form] !== undefined)
  const given = forms.length === 0 ? 'none' : forms.map((form) => `"${form}"`).join(' and ')
  if (value.token_endpoint_auth_method === 'private_key_jwt') {
    // A key client holds no secret: validateClient checks its jwks or jwks_uri.
    if (forms.length > 0) {
      throw new TypeError(
        `${at}: a private_key_jwt client authenticates with its key; remove ${given}`,
      )
    }
    return record
  }
  if (forms.length !== 1) {
    throw new TypeError(
      `${at}: give exactly one of "secrets", "client_secret_hash" or (demos only) ` +
        `"client_secret", not ${given}`,
    )
  }
  if (secretId !== undefined) {
    if (record.secrets !== undefined) {
      throw new TypeError(`${at}: client_secret_id goes with client_secret_hash or client_secret`)
    }
    if (!isSecretId(secretId)) {
      throw new TypeError(`${at}.client_secret_id must be 1-32 characters of [A-Za-z0-9-]`)
    }
  }
  const id = secretId as string | undefined
  if (hash !== undefined) {
    // Never echo it: a secret pasted here by mistake must not reach the logs.
    if (!isSecretHash(hash)) {
      throw new TypeError(
        `${at}.client_secret_hash must be a hash made by hashClientSecret or \`ccflow hash\` ` +
          '(never the secret)',
      )
    }
    record.secrets = [{ id: id ?? 'default', hash }]
  }
  if (plain !== undefined) {
    record.secrets = [hashPlainSecret(plain, id, at, pepper)]
    warnings.push(
      `${at} has a plain client_secret: fine for a demo, but store client_secret_hash ` +
        '(from `ccflow hash`) in real deployments',
    )
    // The endpoint reads client_secret_basic with passport-http, which splits on every ':'.
    if (
      (plain as string).includes(':') &&
      record.token_endpoint_auth_method !== 'client_secret_post'
    ) {
      warnings.push(
        `${at} has a client_secret holding ":": the client must form-encode it (%3A) before ` +
          'Base64 in HTTP Basic (RFC 6749 §2.3.1), or use client_secret_post',
      )
    }
  }
  return record
}

function hashPlainSecret(
  plain: unknown,
  secretId: string | undefined,
  at: string,
  pepper: string | undefined,
): { id: string; hash: string } {
  if (typeof plain !== 'string' || plain === '') {
    throw new TypeError(`${at}.client_secret must be a non-empty string`)
  }
  if (isSecretHash(plain)) {
    throw new TypeError(`${at}.client_secret holds a hash: put it in client_secret_hash`)
  }
  // The endpoint picks a generated secret's stored hash by the id in its prefix.
  const prefixId = parseSecretId(plain)
  if (secretId !== undefined && prefixId !== undefined && secretId !== prefixId) {
    throw new TypeError(
      `${at}.client_secret_id is "${secretId}" but the secret's prefix names "${prefixId}"`,
    )
  }
  const pepperOption = pepper === undefined ? {} : { pepper }
  return {
    id: secretId ?? prefixId ?? 'default',
    // HMAC for a generated secret, scrypt for any other, as hashClientSecret picks.
    hash: hashClientSecretSync(plain, pepperOption, `${at}.client_secret`),
  }
}
