import { createHash, randomBytes } from 'node:crypto'
import {
  checkRedisKeyPrefix,
  isObjectRecord,
  optionError,
  type OptionTable,
  REDIS_COMMAND_OPTIONS,
  type RedisCommandOptions,
  resolveRedisCommand,
} from '@ccflow/core'
import { createTokenCipher, type TokenCipher } from './encryption.js'
import type { StoredToken, TokenStore } from './token-store.js'

/** Options of {@link redisTokenStore}. */
export interface RedisTokenStoreOptions extends RedisCommandOptions {
  /**
   * Prefix of every key; the processes that share tokens use the same one, and other
   * applications on the same Redis use their own.
   * @default DEFAULT_TOKEN_PREFIX ('ccflow:token:')
   */
  prefix?: string | undefined
  /**
   * A 32-byte application key (a `Buffer`, or its base64url text): tokens are then stored
   * sealed with AES-256-GCM, so reading Redis does not yield a usable token. Every process of
   * the fleet needs the same key; a value sealed under another key counts as absent.
   * @default undefined (tokens stored as JSON)
   */
  encryptionKey?: Buffer | string | undefined
}

/** The default key prefix of {@link redisTokenStore}. */
export const DEFAULT_TOKEN_PREFIX = 'ccflow:token:'

const REDIS_TOKEN_STORE_OPTIONS = {
  ...REDIS_COMMAND_OPTIONS,
  prefix: true,
  encryptionKey: true,
} satisfies OptionTable<RedisTokenStoreOptions>

// Deletes KEYS[1] only while its value starts with ARGV[1]: the stored token's fingerprint
// (compare-and-delete of a token) or the whole lock id (release of one's own lock).
const DELETE_IF_PREFIX =
  "local v = redis.call('GET', KEYS[1]) " +
  "if v and string.sub(v, 1, string.len(ARGV[1])) == ARGV[1] then return redis.call('DEL', KEYS[1]) end " +
  'return 0'

/** base64url(SHA-256(token)): how a stored value names its token for compare-and-delete. */
function fingerprint(value: string): string {
  return createHash('sha256').update(value).digest('base64url')
}

/**
 * A token store in Redis, for a fleet of processes that share their tokens: one key per cache
 * key (`<prefix><key>`, the value `<fingerprint>.<token JSON or sealed token>`, expiring at the
 * token's hard expiry) and one refresh lock per key (`<prefix><key>:lock`, `SET NX PX`). Give it
 * to `createTokenClient({ store })`.
 *
 * Every command is bounded by `timeoutMs`; when Redis fails, the client carries on alone.
 *
 * @example
 * ```ts
 * const redis = createClient({ url: process.env.REDIS_URL, disableOfflineQueue: true })
 * redis.on('error', (err) => log.warn(err))
 * await redis.connect()
 * const store = redisTokenStore({
 *   sendCommand: (args) => redis.sendCommand(args),
 *   encryptionKey: process.env.TOKEN_STORE_KEY, // 32 bytes, base64url
 * })
 * const tokens = createTokenClient({ ...options, store })
 * ```
 * @throws {TypeError} for an unknown option, a missing `sendCommand`, a bad `timeoutMs`,
 *   `prefix` or `encryptionKey`.
 */
export function redisTokenStore(options: RedisTokenStoreOptions): TokenStore {
  const where = 'redisTokenStore'
  const send = resolveRedisCommand(options, where, REDIS_TOKEN_STORE_OPTIONS)
  const prefix = checkRedisKeyPrefix(
    options.prefix,
    { where, path: 'prefix' },
    DEFAULT_TOKEN_PREFIX,
  )
  const cipher = resolveCipher(options.encryptionKey, where)

  const encode = (redisKey: string, token: StoredToken): string => {
    const json = JSON.stringify({
      value: token.value,
      type: token.type,
      scope: token.scope,
      expiresAt: token.expiresAt,
      refreshAt: token.refreshAt,
      hardExpiry: token.hardExpiry,
    })
    return `${fingerprint(token.value)}.${cipher === undefined ? json : cipher.seal(json, redisKey)}`
  }
  const decode = (redisKey: string, stored: string): StoredToken | undefined => {
    const dot = stored.indexOf('.')
    const payload = stored.slice(dot + 1)
    const json = cipher === undefined ? payload : cipher.open(payload, redisKey)
    return json === undefined ? undefined : parseStoredToken(json)
  }

  return {
    async get(key) {
      const redisKey = prefix + key
      const reply = await send(['GET', redisKey])
      if (reply === null) return undefined
      if (typeof reply !== 'string') throw new TypeError(`${where}: unexpected reply to GET`)
      return decode(redisKey, reply)
    },
    async set(key, token) {
      const ttlMs = Math.ceil(token.hardExpiry - Date.now())
      if (ttlMs <= 0) return
      const redisKey = prefix + key
      await send(['SET', redisKey, encode(redisKey, token), 'PX', String(ttlMs)])
    },
    async delete(key, value) {
      await send(['EVAL', DELETE_IF_PREFIX, '1', prefix + key, `${fingerprint(value)}.`])
    },
    async lock(key, ttlMs) {
      const id = randomBytes(16).toString('base64url')
      const reply = await send(['SET', `${prefix}${key}:lock`, id, 'NX', 'PX', String(ttlMs)])
      if (reply === 'OK') return id
      if (reply === null) return undefined
      throw new TypeError(`${where}: unexpected reply to SET NX`)
    },
    async unlock(key, lockId) {
      await send(['EVAL', DELETE_IF_PREFIX, '1', `${prefix}${key}:lock`, lockId])
    },
  }
}

function resolveCipher(key: unknown, where: string): TokenCipher | undefined {
  if (key === undefined) return undefined
  const bytes =
    typeof key === 'string' && /^[\w-]+$/.test(key)
      ? Buffer.from(key, 'base64url')
      : Buffer.isBuffer(key)
        ? key
        : undefined
  if (bytes?.length !== 32) {
    throw optionError(where, 'encryptionKey', 'must be 32 bytes: a Buffer or its base64url text')
  }
  return createTokenCipher(Buffer.from(bytes))
}

/** A stored token read back, checked member by member; `undefined` for anything else. */
function parseStoredToken(json: string): StoredToken | undefined {
  let value: unknown
  try {
    value = JSON.parse(json)
  } catch {
    return undefined
  }
  if (!isObjectRecord(value)) return undefined
  const { value: token, type, scope, expiresAt, refreshAt, hardExpiry } = value
  if (
    typeof token !== 'string' ||
    (type !== 'Bearer' && type !== 'DPoP') ||
    (scope !== undefined && typeof scope !== 'string') ||
    typeof expiresAt !== 'number' ||
    typeof refreshAt !== 'number' ||
    typeof hardExpiry !== 'number'
  ) {
    return undefined
  }
  return { value: token, type, scope, expiresAt, refreshAt, hardExpiry }
}
