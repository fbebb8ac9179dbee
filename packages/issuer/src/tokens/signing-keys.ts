import {
  checkKnownKeys,
  checkObject,
  isPlainObject,
  MIN_HMAC_BYTES,
  MIN_RSA_BITS,
  nearestName,
  type EcPrivateJwk,
  type EcPublicJwk,
  type Jwk,
  type OptionTable,
  type RsaPrivateJwk,
  type RsaPublicJwk,
} from '@ccflow/core'
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  generateKeyPairSync,
  KeyObject,
} from 'node:crypto'
import type { SigningKeyState } from '../observability/channels.js'

/** JWS algorithms the issuer signs with. */
export type SigningAlgorithm = 'RS256' | 'PS256' | 'ES256' | 'HS256'

/**
 * Role of a key during rotation. Only the `active` key signs; `next` (pre-published so that
 * verifiers cache it before it signs) and `retired` (kept until its last token expires) are only
 * published.
 */
export type SigningKeyStatus = 'active' | 'next' | 'retired'

/**
 * A signing key as configured, in one of three shapes:
 *
 * - a private JWK that names its own `kid` and `alg` (`RS256`, `PS256` or `ES256`), as
 *   `ccflow keygen` writes them and {@link generateSigningKey} returns them in `privateJwk`;
 * - `{ kid, alg, privateKey }` (`RS256`, `PS256`, `ES256`), `privateKey` as PEM (PKCS#8, PKCS#1 or
 *   SEC1, unencrypted), a private JWK, or a private `KeyObject`;
 * - `{ kid, alg: 'HS256', secret }`: a shared secret of at least 32 bytes (a string counts as
 *   UTF-8). Never published.
 *
 * `status` default: when no key is marked `active`, the first key without a status is active;
 * the other keys are published but never sign.
 *
 * The result of {@link generateSigningKey} is a valid input as it is (its `privateJwk` and
 * `publicJwk` fields are ignored).
 */
export type SigningKeyInput =
  | SigningJwk
  | {
      kid: string
      alg: 'RS256' | 'PS256' | 'ES256'
      privateKey: string | Jwk | KeyObject
      status?: SigningKeyStatus | undefined
    }
  | {
      kid: string
      alg: 'HS256'
      secret: string | Buffer | KeyObject
      status?: SigningKeyStatus | undefined
    }

/**
 * A private JWK that names its own key id and algorithm: one entry of the JWK Set that
 * `ccflow keygen --out` writes. `status` (not a JWK member) may be added for a rotation.
 */
export type SigningJwk = Jwk & {
  kty: string
  kid: string
  alg: 'RS256' | 'PS256' | 'ES256'
  /** The private member: a public JWK cannot sign. */
  d: string
  status?: SigningKeyStatus | undefined
}

/**
 * The signing keys: a list, or a JWK Set (`{ "keys": [...] }`, RFC 7517 §5) such as the file
 * `ccflow keygen --out` writes, passed as it is parsed.
 */
export type SigningKeysInput =
  readonly SigningKeyInput[] | { readonly keys: readonly SigningKeyInput[] }

/** A public JWK as published in the JWKS: public members plus `kid`, `alg` and `use: 'sig'`. */
export type PublicJwk = (RsaPublicJwk | EcPublicJwk) & { kid: string; alg: string; use: 'sig' }

/**
 * Keys imported once at startup: the key that signs, and the JWKS that verifiers fetch.
 *
 * @see RFC 7517 §5 (JWK Set)
 */
export interface SigningKeySet {
  /** The one key that signs new tokens. */
  readonly active: { readonly kid: string; readonly alg: SigningAlgorithm; readonly key: KeyObject }
  /** The public keys of every asymmetric key (active, next, retired); never an HS256 secret. */
  readonly jwks: { readonly keys: readonly PublicJwk[] }
  /** `jwks` serialised once, ready to send. */
  readonly jwksJson: string
}

const ASYMMETRIC_ALGS = new Set(['RS256', 'PS256', 'ES256'])
const STATUSES = new Set(['active', 'next', 'retired'])
const HS_FIELDS = new Set(['kid', 'alg', 'status', 'secret'])
// `privateJwk` and `publicJwk` are tolerated (and ignored) so that the result of
// generateSigningKey() can be passed as a key as it is.
const ASYMMETRIC_FIELDS = new Set(['kid', 'alg', 'status', 'privateKey', 'privateJwk', 'publicJwk'])
// The members of a private RSA or EC JWK (RFC 7517 §4, RFC 7518 §6.2, §6.3) plus `status`.
const JWK_FIELDS = new Set([
  'kty',
  'kid',
  'alg',
  'use',
  'key_ops',
  'ext',
  'crv',
  'x',
  'y',
  'n',
  'e',
  'd',
  'p',
  'q',
  'dp',
  'dq',
  'qi',
  'status',
])
const SET_FIELDS = { keys: true } as const
// RFC 3986 unreserved characters: safe in headers, logs, URLs and file names.
const KID = /^[A-Za-z0-9._~-]{1,128}$/

/**
 * Imports every configured key once, checks that each key fits its algorithm, and builds the
 * public JWKS.
 *
 * Checks: RS256 and PS256 need an RSA key of at least 2048 bits (PS256 also takes an RSA-PSS key
 * whose parameters allow SHA-256); ES256 needs an EC P-256 key; HS256 needs a secret of at least
 * 32 bytes. Key ids are unique, 1–128 characters of `[A-Za-z0-9._~-]`, and exactly one key is
 * active. The JWKS holds only public members (`kty`, `n`, `e` or `crv`, `x`, `y`) plus `kid`,
 * `alg` and `use: 'sig'`.
 *
 * @example
 * ```ts
 * const keySet = importSigningKeys([
 *   { kid: '2025-06', alg: 'ES256', privateKey: process.env.SIGNING_KEY_PEM! },
 *   { kid: '2025-01', alg: 'ES256', privateKey: oldPem, status: 'retired' },
 * ])
 * const fromFile = importSigningKeys(JSON.parse(readFileSync('signing-keys.json', 'utf8')))
 * ```
 * @throws {TypeError} Naming the key (`keys[i]`) for an unknown field, a bad or duplicate kid, an
 *   unreadable, public or encrypted key, a key that does not fit its algorithm, a short secret, or
 *   when not exactly one key is active.
 * @see RFC 7518 §3 (algorithms), RFC 7517 (JWK), RFC 9068 §4 (keys for access tokens)
 */
export function importSigningKeys(keys: SigningKeysInput): SigningKeySet {
  const imported = signingKeyList(keys).map((input: unknown, i) => importOne(input, `keys[${i}]`))

  const kids = new Set<string>()
  for (const [i, key] of imported.entries()) {
    if (kids.has(key.kid)) throw new TypeError(`keys[${i}].kid repeats ${JSON.stringify(key.kid)}`)
    kids.add(key.kid)
  }

  const marked = imported.filter((key) => key.status === 'active')
  if (marked.length > 1) {
    throw new TypeError(
      `keys: exactly one key may be active, found ${marked.map((k) => JSON.stringify(k.kid)).join(', ')}`,
    )
  }
  const active = marked[0] ?? imported.find((key) => key.status === undefined)
  if (!active) throw new TypeError("keys: no active key (mark one status: 'active')")

  const jwks = Object.freeze({
    keys: Object.freeze(
      imported.flatMap((key) => (key.publicJwk ? [Object.freeze(key.publicJwk)] : [])),
    ),
  })
  const keySet: SigningKeySet = Object.freeze({
    active: Object.freeze({ kid: active.kid, alg: active.alg, key: active.key }),
    jwks,
    jwksJson: JSON.stringify(jwks),
  })
  const states = { active: 0, next: 0, retired: 0, other: 0 }
  for (const key of imported) {
    states[key === active ? 'active' : (key.status ?? 'other')]++
  }
  keyStates.set(keySet, Object.freeze(states))
  return keySet
}

// The keys of each imported set counted by state, for the `signing_keys` gauge.
const keyStates = new WeakMap<SigningKeySet, Readonly<Record<SigningKeyState, number>>>()

/**
 * The keys of a set made by {@link importSigningKeys}, counted by state: `active` (the one that
 * signs), `next`, `retired`, and `other` (not active, no status: published only).
 *
 * @internal
 */
export function signingKeyStates(keySet: SigningKeySet): Readonly<Record<SigningKeyState, number>> {
  return keyStates.get(keySet) ?? NO_KEYS
}

const NO_KEYS = Object.freeze({ active: 0, next: 0, retired: 0, other: 0 })

/**
 * The algorithm {@link generateSigningKey} and `ccflow keygen` use when none is given: RS256, the
 * most widely supported by verifiers (DESIGN.md: the interop default).
 */
export const DEFAULT_SIGNING_ALGORITHM = 'RS256'

const GENERATE_SIGNING_KEY_OPTIONS = { kid: true } satisfies OptionTable<{
  kid?: string | undefined
}>

/**
 * Generates a fresh key pair, for development and tests. Production issuers load keys from
 * configuration so that every instance signs with the same keys.
 *
 * @example
 * ```ts
 * const key = generateSigningKey('ES256')
 * app.use(tokenEndpoint({ issuer, clients, keys: [key] }))
 * ```
 * @param alg - @default {@link DEFAULT_SIGNING_ALGORITHM} (`'RS256'`, the most widely supported)
 * @param options.kid - @default the RFC 7638 JWK thumbprint of the public key
 * @returns A valid {@link SigningKeyInput} (`kid`, `alg`, `privateKey` as a `KeyObject`) plus
 *   its private JWK (to store as configuration; itself a valid {@link SigningJwk}) and its public
 *   JWK, both with `kid`, `alg` and `use`.
 * @throws {TypeError} For an unknown algorithm or a kid outside `[A-Za-z0-9._~-]{1,128}`.
 * @see RFC 7638 (JWK thumbprint)
 */
export function generateSigningKey(
  alg: 'RS256' | 'PS256' | 'ES256' = DEFAULT_SIGNING_ALGORITHM,
  options: { kid?: string | undefined } = {},
): {
  kid: string
  alg: 'RS256' | 'PS256' | 'ES256'
  privateKey: KeyObject
  privateJwk: (RsaPrivateJwk | EcPrivateJwk) & SigningJwk & { use: 'sig' }
  publicJwk: PublicJwk
} {
  if (!ASYMMETRIC_ALGS.has(alg)) {
    throw new TypeError("generateSigningKey: alg must be 'RS256', 'PS256' or 'ES256'")
  }
  checkObject(options, 'generateSigningKey')
  checkKnownKeys(options, GENERATE_SIGNING_KEY_OPTIONS, 'generateSigningKey')
  const { privateKey } =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: MIN_RSA_BITS })
  const members = publicMembers(privateKey)
  const kid = options.kid ?? thumbprint(members)
  checkKid(kid, 'generateSigningKey: kid')
  return {
    kid,
    alg,
    privateKey,
    privateJwk: {
      ...(privateKey.export({ format: 'jwk' }) as RsaPrivateJwk | EcPrivateJwk),
      kid,
      alg,
      use: 'sig',
    },
    publicJwk: { ...members, kid, alg, use: 'sig' },
  }
}

/**
 * The list of signing keys in `keys`: the array itself, or the `keys` of a JWK Set.
 *
 * @internal
 * @param error - Makes the error from the problem (`must be …`). @default a `TypeError` `keys …`
 * @throws {TypeError} When `keys` is neither a non-empty array nor a JWK Set holding one.
 */
export function signingKeyList(
  keys: unknown,
  error: (problem: string) => TypeError = (problem) => new TypeError(`keys ${problem}`),
): readonly unknown[] {
  let list = keys
  if (isPlainObject(keys)) {
    if (!Object.hasOwn(keys, 'keys')) {
      throw error('must be an array of signing keys (put a single key in [ ]) or a JWK Set')
    }
    for (const member of Object.keys(keys)) {
      if (!Object.hasOwn(SET_FIELDS, member)) {
        throw error(
          `is a JWK Set with the unknown member ${JSON.stringify(member)}; it holds only "keys"`,
        )
      }
    }
    list = keys.keys
  }
  if (!Array.isArray(list) || list.length === 0) {
    throw error('must be a non-empty array of signing keys or a JWK Set: { "keys": [...] }')
  }
  return list
}

interface ImportedKey {
  kid: string
  alg: SigningAlgorithm
  status: SigningKeyStatus | undefined
  key: KeyObject
  publicJwk: PublicJwk | undefined
}

function importOne(value: unknown, where: string): ImportedKey {
  if (!isPlainObject(value)) throw new TypeError(`${where} must be an object`)
  const isJwk = value.kty !== undefined
  const input = isJwk ? fromJwk(value, where) : value
  // Errors about the key material name the JWK itself, or the privateKey holding it.
  const keyWhere = isJwk ? where : `${where}.privateKey`
  const { kid, alg, status } = input
  if (typeof alg !== 'string' || !(ASYMMETRIC_ALGS.has(alg) || alg === 'HS256')) {
    throw new TypeError(`${where}.alg must be 'RS256', 'PS256', 'ES256' or 'HS256'`)
  }
  const allowed = alg === 'HS256' ? HS_FIELDS : ASYMMETRIC_FIELDS
  for (const key of Object.keys(input)) {
    if (!allowed.has(key)) {
      const near = nearestName(key, [...allowed])
      const hint = near === undefined ? '' : ` (did you mean "${near}"?)`
      throw new TypeError(`${where}: unknown key ${JSON.stringify(key)} for ${alg}${hint}`)
    }
  }
  checkKid(kid, `${where}.kid`)
  if (status !== undefined && (typeof status !== 'string' || !STATUSES.has(status))) {
    throw new TypeError(`${where}.status must be 'active', 'next' or 'retired'`)
  }
  const base = { kid, status: status as SigningKeyStatus | undefined }

  if (alg === 'HS256') {
    return {
      ...base,
      alg,
      key: importSecret(input.secret, `${where}.secret`),
      publicJwk: undefined,
    }
  }
  const asymmetricAlg = alg as 'RS256' | 'PS256' | 'ES256'
  const key = checkKeyFitsAlg(
    importPrivateKey(input.privateKey, keyWhere, kid, asymmetricAlg),
    asymmetricAlg,
    keyWhere,
  )
  return {
    ...base,
    alg: asymmetricAlg,
    key,
    publicJwk: { ...publicMembers(key), kid, alg: asymmetricAlg, use: 'sig' },
  }
}

/**
 * A key given as a private JWK that names its own kid and alg becomes `{ kid, alg, status,
 * privateKey: jwk }`; its members are checked here, the key itself by importPrivateKey.
 */
function fromJwk(jwk: Record<string, unknown>, where: string): Record<string, unknown> {
  for (const member of Object.keys(jwk)) {
    if (JWK_FIELDS.has(member)) continue
    if (ASYMMETRIC_FIELDS.has(member) || HS_FIELDS.has(member)) {
      throw new TypeError(
        `${where}: give either a private JWK with kid and alg, or { kid, alg, privateKey }, ` +
          `not both (found "kty" and ${JSON.stringify(member)})`,
      )
    }
    const near = nearestName(member, [...JWK_FIELDS])
    const hint = near === undefined ? '' : ` (did you mean "${near}"?)`
    throw new TypeError(`${where}: unknown JWK member ${JSON.stringify(member)}${hint}`)
  }
  if (jwk.kid === undefined || jwk.alg === undefined) {
    throw new TypeError(
      `${where}: a JWK signing key needs "kid" and "alg" ('RS256', 'PS256' or 'ES256'), as ` +
        '`ccflow keygen` writes them, or give { kid, alg, privateKey: jwk }',
    )
  }
  if (typeof jwk.alg !== 'string' || !ASYMMETRIC_ALGS.has(jwk.alg)) {
    throw new TypeError(
      `${where}.alg of a JWK signing key must be 'RS256', 'PS256' or 'ES256' ` +
        "(an HS256 key is { kid, alg: 'HS256', secret })",
    )
  }
  if (
    jwk.key_ops !== undefined &&
    !(Array.isArray(jwk.key_ops) && (jwk.key_ops as unknown[]).includes('sign'))
  ) {
    throw new TypeError(`${where}.key_ops must include 'sign'`)
  }
  const { status, ...privateKey } = jwk
  return { kid: jwk.kid, alg: jwk.alg, status, privateKey }
}

function checkKid(kid: unknown, where: string): asserts kid is string {
  if (typeof kid !== 'string' || !KID.test(kid)) {
    throw new TypeError(`${where} must be 1-128 characters of [A-Za-z0-9._~-]`)
  }
}

function importPrivateKey(value: unknown, where: string, kid: string, alg: string): KeyObject {
  if (value instanceof KeyObject) {
    if (value.type !== 'private') throw new TypeError(`${where} must be a private key`)
    return value
  }
  if (typeof value === 'string') {
    if (!value.includes('-----BEGIN')) {
      throw new TypeError(`${where} must be a PEM private key, a private JWK or a KeyObject`)
    }
    if (/-----BEGIN (?:RSA |EC )?PUBLIC KEY-----|-----BEGIN CERTIFICATE-----/.test(value)) {
      throw new TypeError(
        `${where} is a public key or certificate; the issuer needs the private key`,
      )
    }
    // Checked up front: OpenSSL's error for a missing passphrase differs between Node versions.
    if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(value)) {
      throw new TypeError(
        `${where} is encrypted; decrypt it with createPrivateKey({ key, passphrase }) and pass the KeyObject`,
      )
    }
    return parseKey(() => createPrivateKey(value), where)
  }
  if (isPlainObject(value)) {
    if (typeof value.d !== 'string') {
      throw new TypeError(`${where} is a JWK without the private member "d"`)
    }
    // A JWK that names its own kid, alg or use must agree with the configuration.
    if (value.kid !== undefined && value.kid !== kid) {
      throw new TypeError(`${where}.kid differs from the key's kid`)
    }
    if (value.alg !== undefined && value.alg !== alg) {
      throw new TypeError(`${where}.alg differs from the key's alg`)
    }
    if (value.use !== undefined && value.use !== 'sig') {
      throw new TypeError(`${where}.use must be 'sig'`)
    }
    return parseKey(() => createPrivateKey({ key: value, format: 'jwk' }), where)
  }
  throw new TypeError(`${where} must be a PEM private key, a private JWK or a KeyObject`)
}

function parseKey(parse: () => KeyObject, where: string): KeyObject {
  try {
    return parse()
  } catch (err) {
    // The cause carries OpenSSL's reason; the message never includes key material.
    throw new TypeError(`${where} could not be read as a private key`, { cause: err })
  }
}

function checkKeyFitsAlg(
  key: KeyObject,
  alg: 'RS256' | 'PS256' | 'ES256',
  where: string,
): KeyObject {
  const type = key.asymmetricKeyType
  const details = key.asymmetricKeyDetails ?? {}
  if (alg === 'ES256') {
    if (type !== 'ec' || details.namedCurve !== 'prime256v1') {
      throw new TypeError(`${where} must be an EC P-256 key for ES256`)
    }
    return key
  }
  const rsa = type === 'rsa' || (alg === 'PS256' && type === 'rsa-pss')
  if (!rsa) throw new TypeError(`${where} must be an RSA key for ${alg}`)
  if ((details.modulusLength ?? 0) < MIN_RSA_BITS) {
    throw new TypeError(`${where} must be an RSA key of at least ${MIN_RSA_BITS} bits`)
  }
  if (type === 'rsa-pss') {
    // An RSA-PSS key may restrict its own use; PS256 needs SHA-256, MGF1-SHA-256 and a salt of
    // at most 32 bytes (RFC 7518 §3.5).
    if (
      (details.hashAlgorithm !== undefined && details.hashAlgorithm !== 'sha256') ||
      (details.mgf1HashAlgorithm !== undefined && details.mgf1HashAlgorithm !== 'sha256') ||
      (details.saltLength !== undefined && details.saltLength > 32)
    ) {
      throw new TypeError(`${where} is an RSA-PSS key whose parameters do not allow PS256`)
    }
    return rsaPssToRsa(key)
  }
  return key
}

/**
 * Re-imports an RSA-PSS key as a plain RSA key. Node cannot export RSA-PSS keys as JWK, and
 * jsonwebtoken refuses RSA-PSS keys without explicit parameters; the signature is the same.
 */
function rsaPssToRsa(key: KeyObject): KeyObject {
  const der = key.export({ format: 'der', type: 'pkcs8' })
  // PrivateKeyInfo ::= SEQUENCE { version INTEGER, algorithm AlgorithmIdentifier,
  //                               privateKey OCTET STRING (an RSAPrivateKey, PKCS#1) }
  const outer = readDer(der, 0, 0x30)
  const version = readDer(der, outer.start, 0x02)
  const algorithm = readDer(der, version.end, 0x30)
  const privateKey = readDer(der, algorithm.end, 0x04)
  return createPrivateKey({
    key: der.subarray(privateKey.start, privateKey.end),
    format: 'der',
    type: 'pkcs1',
  })
}

function readDer(der: Buffer, offset: number, tag: number): { start: number; end: number } {
  if (der.readUInt8(offset) !== tag) throw new TypeError('unexpected DER structure in key')
  let length = der.readUInt8(offset + 1)
  let start = offset + 2
  if (length & 0x80) {
    const bytes = length & 0x7f
    length = 0
    for (let i = 0; i < bytes; i++) length = length * 256 + der.readUInt8(start + i)
    start += bytes
  }
  return { start, end: start + length }
}

function importSecret(value: unknown, where: string): KeyObject {
  let key: KeyObject
  if (value instanceof KeyObject) {
    if (value.type !== 'secret') throw new TypeError(`${where} must be a secret KeyObject`)
    key = value
  } else if (typeof value === 'string') {
    key = createSecretKey(Buffer.from(value, 'utf8'))
  } else if (Buffer.isBuffer(value)) {
    // Copy, so later changes to the caller's buffer cannot change the key.
    key = createSecretKey(Buffer.from(value))
  } else {
    throw new TypeError(`${where} must be a string, a Buffer or a secret KeyObject`)
  }
  // RFC 7518 §3.2: a key of the same size as the hash output or larger.
  if ((key.symmetricKeySize ?? 0) < MIN_HMAC_BYTES) {
    throw new TypeError(`${where} must be at least ${MIN_HMAC_BYTES} bytes for HS256`)
  }
  return key
}

/** Only the public members, picked by name so no private member can slip through. */
function publicMembers(key: KeyObject): RsaPublicJwk | EcPublicJwk {
  const jwk = createPublicKey(key).export({ format: 'jwk' })
  return jwk.kty === 'EC'
    ? { kty: 'EC', crv: jwk.crv as string, x: jwk.x as string, y: jwk.y as string }
    : { kty: 'RSA', n: jwk.n as string, e: jwk.e as string }
}

/** RFC 7638 §3: SHA-256 over the required members in lexicographic order. */
function thumbprint(jwk: RsaPublicJwk | EcPublicJwk): string {
  const members =
    jwk.kty === 'EC'
      ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
      : { e: jwk.e, kty: jwk.kty, n: jwk.n }
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url')
}
