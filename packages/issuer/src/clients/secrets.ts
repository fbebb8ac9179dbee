import { checkKnownKeys, checkObject, didYouMean, optionError } from '@ccflow/core'
import { type ScryptOptions, createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto'

/** The public prefix of every generated client secret. */
const SECRET_PREFIX = 'ccs_'
const SECRET_ID = /^[A-Za-z0-9-]{1,32}$/
// `ccs_<id>_<43 base64url chars>`: the id has no '_', so the first two underscores delimit it
// even though the random part (base64url) may itself contain '_' and '-'.
const GENERATED_SECRET = /^ccs_([A-Za-z0-9-]{1,32})_[A-Za-z0-9_-]{43}$/

/** Longest secret we hash or verify; anything longer is refused before any crypto work. */
const MAX_SECRET_LENGTH = 1024

const HMAC_PREFIX = '$hmac-sha256$'
// Without a pepper, HMAC still separates our digests from plain SHA-256 of the same input.
// A generated secret carries 256 random bits, so an unkeyed-in-practice digest is not guessable.
const HMAC_DEFAULT_KEY = 'ccflow/client-secret/hmac-sha256/v1'
const HMAC_STORED = /^\$hmac-sha256\$([A-Za-z0-9_-]{43})$/
const MIN_PEPPER_BYTES = 32

// scrypt parameters we write: N = 2^15, r = 8, p = 1 (32 MiB, OWASP's minimum for scrypt).
const SCRYPT_LN = 15
const SCRYPT_R = 8
const SCRYPT_P = 1
const SCRYPT_SALT_BYTES = 16
const SCRYPT_KEY_BYTES = 32
// Bounds for parameters read back from a stored string: a hostile or mistaken record must not
// make one verification allocate gigabytes or spin for minutes.
const SCRYPT_MAX_MEMORY = 64 * 1024 * 1024
const SCRYPT_MAX_WORK = 2 ** 22 // N * r * p
const SCRYPT_STORED =
  /^\$scrypt\$ln=([1-9][0-9]?),r=([1-9][0-9]{0,2}),p=([1-9][0-9]{0,2})\$([A-Za-z0-9+/]{22,88})\$([A-Za-z0-9+/]{22,88})$/

/** How a client secret is stored. */
export type SecretHashAlgorithm = 'hmac-sha256' | 'scrypt'

/**
 * Creates a new client secret with a public prefix naming its secret id:
 * `ccs_<secretId>_<43 base64url characters>` (256 random bits).
 *
 * The prefix lets the token endpoint pick the one stored hash to check instead of trying every
 * secret of a client. The secret contains only `[A-Za-z0-9_-]`, so it needs no escaping in a
 * form body or a Basic header (it never contains `:`).
 *
 * @example
 * ```ts
 * const { secretId, secret } = generateClientSecret()
 * const hash = await hashClientSecret(secret) // store { id: secretId, hash }, hand out `secret`
 * ```
 * @param options.secretId - The id to embed, `[A-Za-z0-9-]{1,32}`. @default 12 random hex digits
 * @throws {TypeError} When `secretId` is not 1–32 characters of `[A-Za-z0-9-]`.
 * @see RFC 6749 §2.3.1 (client password), RFC 6749 §10.10 (credential guessing)
 */
export function generateClientSecret(options: { secretId?: string | undefined } = {}): {
  secretId: string
  secret: string
} {
  checkOptions(options, 'generateClientSecret', { secretId: true })
  const secretId = options.secretId ?? randomBytes(6).toString('hex')
  if (typeof secretId !== 'string' || !SECRET_ID.test(secretId)) {
    throw optionError('generateClientSecret', 'secretId', 'must be 1-32 characters of [A-Za-z0-9-]')
  }
  return {
    secretId,
    secret: `${SECRET_PREFIX}${secretId}_${randomBytes(32).toString('base64url')}`,
  }
}

/**
 * Reads the secret id from a secret made by {@link generateClientSecret}.
 *
 * @returns The secret id, or `undefined` when the value does not have the exact generated shape
 *   (`ccs_<id>_<43 base64url characters>`), for example an imported human-chosen secret.
 */
export function parseSecretId(secret: string): string | undefined {
  if (typeof secret !== 'string' || !secret.startsWith(SECRET_PREFIX)) return undefined
  return GENERATED_SECRET.exec(secret)?.[1]
}

/**
 * Hashes a client secret into the form stored in a client record.
 *
 * - `hmac-sha256`: `$hmac-sha256$<base64url digest>`, keyed with `pepper` when given (keep the
 *   pepper outside the client store), else with a fixed domain-separation key. Fast; meant for
 *   generated secrets, whose 256 random bits make brute force pointless.
 * - `scrypt`: PHC string `$scrypt$ln=15,r=8,p=1$<b64 salt>$<b64 hash>`, for imported
 *   human-chosen secrets. `pepper` is not used.
 *
 * @example
 * ```ts
 * const hash = await hashClientSecret(secret, { pepper: process.env.SECRET_PEPPER })
 * ```
 * @param options.algorithm - @default `'hmac-sha256'` for a secret made by
 *   {@link generateClientSecret}, `'scrypt'` for any other secret. Timing: every refused
 *   `hmac-sha256` client costs the same as an unknown client (one HMAC, checked by
 *   `pnpm --filter bench timing`); an `scrypt` check takes about 0.1 s, so a client stored with
 *   scrypt can be told from an unknown id by timing. That is the documented exception: use scrypt
 *   only for imported human-chosen secrets, and move such clients to generated secrets.
 * @param options.pepper - HMAC key, at least 32 bytes; the endpoint needs the same `secretPepper`.
 * @throws {TypeError} When the secret is empty or longer than 1024 characters, the algorithm is
 *   unknown, or the pepper is shorter than 32 bytes.
 * @see RFC 7914 (scrypt), PHC string format
 */
export async function hashClientSecret(
  secret: string,
  options: { algorithm?: SecretHashAlgorithm | undefined; pepper?: string | undefined } = {},
): Promise<string> {
  const { algorithm, pepper } = prepareHash(secret, options, 'hashClientSecret')
  if (algorithm === 'hmac-sha256') return hmacHash(secret, pepper)
  const salt = randomBytes(SCRYPT_SALT_BYTES)
  return scryptPhc(
    salt,
    await scryptAsync(secret, salt, SCRYPT_KEY_BYTES, SCRYPT_LN, SCRYPT_R, SCRYPT_P),
  )
}

/**
 * Checks a presented secret against a stored hash in constant time.
 *
 * Never throws for bad input: a presented value that is not a string or is too long, and a
 * stored hash that is malformed or carries out-of-bounds scrypt parameters, all give `false`.
 *
 * @param options.pepper - The pepper the hash was made with (`hmac-sha256` only).
 * @throws {TypeError} Only for a pepper shorter than 32 bytes (a configuration error).
 * @see RFC 6749 §2.3.1
 */
export async function verifyClientSecret(
  secret: string,
  storedHash: string,
  options: { pepper?: string | undefined } = {},
): Promise<boolean> {
  checkOptions(options, 'verifyClientSecret', { pepper: true })
  const pepper = checkPepper(options.pepper, 'verifyClientSecret')
  if (typeof secret !== 'string' || secret.length > MAX_SECRET_LENGTH) return false
  if (typeof storedHash !== 'string') return false
  const hmac = HMAC_STORED.exec(storedHash)
  if (hmac) {
    const expected = Buffer.from(hmac[1] as string, 'base64url')
    return timingSafeEqual(hmacDigest(secret, pepper), expected)
  }
  const params = parseScrypt(storedHash)
  if (!params) return false
  try {
    const actual = await scryptAsync(
      secret,
      params.salt,
      params.hash.length,
      params.ln,
      params.r,
      params.p,
    )
    return timingSafeEqual(actual, params.hash)
  } catch {
    return false
  }
}

/**
 * A well-formed `hmac-sha256` stored hash of 32 random bytes, which no secret's digest equals.
 * The token endpoint verifies the presented secret against it when there is no real hash to
 * check (an unknown client, an unknown secret id, a key client): the same parsing, HMAC,
 * constant-time comparison and promise as a wrong secret, so response times do not tell which
 * client ids exist (RFC 6819 §5.1.4.2.2).
 *
 * @internal Used by the token endpoint; not part of the public API.
 */
export const UNMATCHABLE_SECRET_HASH: string = `${HMAC_PREFIX}${randomBytes(32).toString('base64url')}`

/**
 * Whether a string is a stored hash this module can verify (a well-formed `hmac-sha256` digest or
 * an scrypt PHC string within the parameter bounds). Client validation uses it at startup.
 *
 * @internal
 */
export function isSecretHash(value: unknown): boolean {
  if (typeof value !== 'string') return false
  return HMAC_STORED.test(value) || parseScrypt(value) !== undefined
}

/**
 * Whether a string may serve as a secret id (`[A-Za-z0-9-]{1,32}`).
 *
 * @internal
 */
export function isSecretId(value: unknown): boolean {
  return typeof value === 'string' && SECRET_ID.test(value)
}

/**
 * Checks an HMAC pepper: `undefined` or a string of at least 32 bytes (UTF-8).
 *
 * @internal Shared with option validation so the rule lives in one place.
 * @throws {TypeError} Naming `where` when the pepper is not acceptable.
 */
export function checkPepper(pepper: unknown, where: string): string | undefined {
  if (pepper === undefined) return undefined
  if (typeof pepper !== 'string' || Buffer.byteLength(pepper, 'utf8') < MIN_PEPPER_BYTES) {
    throw optionError(where, 'pepper', `must be a string of at least ${MIN_PEPPER_BYTES} bytes`)
  }
  return pepper
}

/**
 * Checks a `secretPepper` option of a factory: `undefined`, or a string of at least 32 bytes.
 *
 * @throws {TypeError} `<where>: option "secretPepper" must be a string of at least 32 bytes`
 */
export function checkPepperOption(value: unknown, where: string): string | undefined {
  try {
    return checkPepper(value, where)
  } catch {
    throw optionError(
      where,
      'secretPepper',
      `must be a string of at least ${MIN_PEPPER_BYTES} bytes`,
    )
  }
}

function hmacDigest(secret: string, pepper: string | undefined): Buffer {
  return createHmac('sha256', pepper ?? HMAC_DEFAULT_KEY)
    .update(secret, 'utf8')
    .digest()
}

interface ScryptParams {
  ln: number
  r: number
  p: number
  salt: Buffer
  hash: Buffer
}

function parseScrypt(stored: string): ScryptParams | undefined {
  const m = SCRYPT_STORED.exec(stored)
  if (!m) return undefined
  const ln = Number(m[1])
  const r = Number(m[2])
  const p = Number(m[3])
  const salt = Buffer.from(m[4] as string, 'base64')
  const hash = Buffer.from(m[5] as string, 'base64')
  const n = 2 ** ln
  if (ln < 10 || ln > 20) return undefined
  if (128 * n * r > SCRYPT_MAX_MEMORY || n * r * p > SCRYPT_MAX_WORK) return undefined
  if (salt.length < 16 || salt.length > 64 || hash.length < 16 || hash.length > 64) return undefined
  return { ln, r, p, salt, hash }
}

function scryptAsync(
  secret: string,
  salt: Buffer,
  keylen: number,
  ln: number,
  r: number,
  p: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, keylen, scryptOptions(ln, r, p), (err, key) => {
      if (err) reject(err)
      else resolve(key)
    })
  })
}

function scryptOptions(ln: number, r: number, p: number): ScryptOptions {
  const N = 2 ** ln
  // Node's default maxmem (32 MiB) is exactly 128·N·r for our own N = 2^15, r = 8 and OpenSSL
  // needs a little more, so set it explicitly from the (already bounded) parameters.
  return { N, r, p, maxmem: 128 * N * r + 128 * r * p + 1024 * 1024 }
}

/** Checks the input of a hash and picks the algorithm: HMAC for a generated secret, else scrypt. */
function prepareHash(
  secret: string,
  options: { algorithm?: SecretHashAlgorithm | undefined; pepper?: string | undefined },
  where: string,
): { algorithm: SecretHashAlgorithm; pepper: string | undefined } {
  if (typeof secret !== 'string' || secret.length === 0 || secret.length > MAX_SECRET_LENGTH) {
    throw new TypeError(
      `${where}: secret must be a non-empty string of at most ${MAX_SECRET_LENGTH} characters`,
    )
  }
  checkOptions(options, where, { algorithm: true, pepper: true })
  const pepper = checkPepper(options.pepper, where)
  const algorithm = options.algorithm ?? (parseSecretId(secret) ? 'hmac-sha256' : 'scrypt')
  if (algorithm !== 'hmac-sha256' && algorithm !== 'scrypt') {
    throw optionError(
      where,
      'algorithm',
      `must be 'hmac-sha256' or 'scrypt'${didYouMean(algorithm, ['hmac-sha256', 'scrypt'], "'")}`,
    )
  }
  return { algorithm, pepper }
}

// The options of the secret functions are checked like a factory's: a misspelt `pepper` would
// otherwise hash without one, and every such secret would be refused later.
function checkOptions(
  options: unknown,
  where: string,
  table: Readonly<Record<string, true>>,
): void {
  checkKnownKeys(checkObject(options, where), table, where)
}

function hmacHash(secret: string, pepper: string | undefined): string {
  return HMAC_PREFIX + hmacDigest(secret, pepper).toString('base64url')
}

function scryptPhc(salt: Buffer, key: Buffer): string {
  return `$scrypt$ln=${SCRYPT_LN},r=${SCRYPT_R},p=${SCRYPT_P}$${b64(salt)}$${b64(key)}`
}

/** PHC strings use standard base64 without padding. */
function b64(buf: Buffer): string {
  return buf.toString('base64').replace(/=+$/, '')
}
