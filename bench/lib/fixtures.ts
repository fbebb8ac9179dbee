// Keys, client and tokens shared by the harness and every target server. The harness mints
// the bearer tokens itself (node:crypto), so no target under test produces its own input.
import {
  generateKeyPairSync,
  randomBytes,
  randomUUID,
  sign,
  verify,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

export type Alg = 'RS256' | 'ES256'

export const ISSUER = 'https://issuer.bench.local'
export const AUDIENCE = 'https://api.bench.local'
/** The scope the guarded route requires. */
export const SCOPE = 'read:orders'
/** The scopes the client holds (and valid tokens carry). */
const CLIENT_SCOPE = 'read:orders write:orders'
export const ROUTE = '/orders'
export const TOKEN_PATH = '/token'
const TOKEN_TTL = 300
/** The small JSON every guard and ceiling target answers with. */
export const ROUTE_BODY = { orders: [{ id: 1, item: 'widget', qty: 2 }] }

export interface KeyFixture {
  kid: string
  alg: Alg
  privateKey: KeyObject
  publicKey: KeyObject
}

interface KeyFixtureJson {
  kid: string
  alg: Alg
  privatePem: string
  publicPem: string
  privateJwk: JsonWebKey
  publicJwk: JsonWebKey
}

export interface Fixtures {
  keys: Record<Alg, KeyFixture>
  /** Same kid and algorithm as the real key, another key pair: its signatures must fail. */
  impostors: Record<Alg, KeyFixture>
  client: { id: string; secretId: string; secret: string }
  /**
   * The `private_key_jwt` client: its id, the ES256 key it signs its assertions with (the
   * servers get only the public JWK) and an impostor key with the same kid.
   */
  keyClient: { id: string; key: KeyFixture; impostor: KeyFixture }
  /** Path of the JSON file the servers read (BENCH_FIXTURES). */
  file: string
}

function makeKey(alg: Alg, kid: string): KeyFixture {
  const pair =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return { kid, alg, privateKey: pair.privateKey, publicKey: pair.publicKey }
}

function keyJson(key: KeyFixture): KeyFixtureJson {
  const publicJwk = { ...key.publicKey.export({ format: 'jwk' }), kid: key.kid, alg: key.alg }
  return {
    kid: key.kid,
    alg: key.alg,
    privatePem: key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicPem: key.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    privateJwk: key.privateKey.export({ format: 'jwk' }),
    publicJwk: { ...publicJwk, use: 'sig' },
  }
}

/** Fresh keys and client for one harness run, written to `<dir>/fixtures.json`. */
export function createFixtures(dir: string): Fixtures {
  const keys = { RS256: makeKey('RS256', 'bench-rs'), ES256: makeKey('ES256', 'bench-es') }
  const impostors = { RS256: makeKey('RS256', 'bench-rs'), ES256: makeKey('ES256', 'bench-es') }
  // The ccflow secret format (`ccs_<secretId>_<256 random bits>`), used by every issuer target.
  const secretId = 'bench1'
  const client = {
    id: 'bench-client',
    secretId,
    secret: `ccs_${secretId}_${randomBytes(32).toString('base64url')}`,
  }
  const keyClient = {
    id: 'bench-key-client',
    key: makeKey('ES256', 'bench-client-es'),
    impostor: makeKey('ES256', 'bench-client-es'),
  }
  const file = join(dir, 'fixtures.json')
  const json = {
    issuer: ISSUER,
    audience: AUDIENCE,
    scope: SCOPE,
    clientScope: CLIENT_SCOPE,
    route: ROUTE,
    tokenPath: TOKEN_PATH,
    tokenTtl: TOKEN_TTL,
    body: ROUTE_BODY,
    client,
    keyClient: { id: keyClient.id, publicJwk: keyJson(keyClient.key).publicJwk },
    keys: { RS256: keyJson(keys.RS256), ES256: keyJson(keys.ES256) },
  }
  writeFileSync(file, JSON.stringify(json), { mode: 0o600 })
  return { keys, impostors, client, keyClient, file }
}

export type Claims = Record<string, unknown>

/** RFC 9068 access-token claims for the bench client, valid for six hours. */
export function accessClaims(overrides: Claims = {}): Claims {
  const now = Math.floor(Date.now() / 1000)
  return {
    iss: ISSUER,
    sub: 'bench-client',
    client_id: 'bench-client',
    aud: AUDIENCE,
    scope: CLIENT_SCOPE,
    iat: now,
    exp: now + 6 * 3600,
    jti: randomUUID(),
    ...overrides,
  }
}

const b64 = (value: string): string => Buffer.from(value).toString('base64url')

function signature(key: KeyFixture, input: string): string {
  const data = Buffer.from(input)
  const sig =
    key.alg === 'ES256'
      ? sign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' })
      : sign('sha256', data, key.privateKey)
  return sig.toString('base64url')
}

/** A signed JWT with `typ: at+jwt` (RFC 9068 §2.1) and the key's kid. */
export function mintToken(key: KeyFixture, claims: Claims, header: Claims = {}): string {
  const input = `${b64(JSON.stringify({ alg: key.alg, typ: 'at+jwt', kid: key.kid, ...header }))}.${b64(JSON.stringify(claims))}`
  return `${input}.${signature(key, input)}`
}

/** `count` distinct valid tokens (unique jti), one per line, for cache-miss load. */
export function writeTokenFile(file: string, key: KeyFixture, count: number): void {
  const lines: string[] = []
  for (let i = 0; i < count; i++) lines.push(mintToken(key, accessClaims()))
  writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 })
}

export interface DecodedJwt {
  header: Claims
  claims: Claims
}

/** Verifies a JWT's signature with `key` (alg from the key) and decodes it; undefined if bad. */
export function verifyJwt(token: string, key: KeyFixture): DecodedJwt | undefined {
  const parts = token.split('.')
  if (parts.length !== 3) return undefined
  const [h = '', p = '', s = ''] = parts
  const data = Buffer.from(`${h}.${p}`)
  const sig = Buffer.from(s, 'base64url')
  const ok =
    key.alg === 'ES256'
      ? verify('sha256', data, { key: key.publicKey, dsaEncoding: 'ieee-p1363' }, sig)
      : verify('sha256', data, key.publicKey, sig)
  if (!ok) return undefined
  try {
    return {
      header: JSON.parse(Buffer.from(h, 'base64url').toString()) as Claims,
      claims: JSON.parse(Buffer.from(p, 'base64url').toString()) as Claims,
    }
  } catch {
    return undefined
  }
}

/** The request headers of a Basic client authentication (RFC 6749 §2.3.1: form-encode first). */
export function basicAuth(id: string, secret: string): string {
  const encoded = `${encodeURIComponent(id)}:${encodeURIComponent(secret)}`
  return `Basic ${Buffer.from(encoded).toString('base64')}`
}

/** The token request body every issuer target gets. */
export const TOKEN_REQUEST_BODY = `grant_type=client_credentials&scope=${encodeURIComponent(SCOPE)}`

/**
 * Lifetime of the bench's client assertions, in seconds: the longest the token endpoint accepts
 * by default (`privateKeyJwt.maxAssertionLifetimeSeconds`), so that a pool minted just before a
 * run stays valid through its warm-up and measurement (the harness refuses longer runs).
 */
export const ASSERTION_LIFETIME = 300

/** RFC 7523 §3 claims of an assertion of the key client, with a fresh jti. */
export function assertionClaims(clientId: string, overrides: Claims = {}): Claims {
  const now = Math.floor(Date.now() / 1000)
  return {
    iss: clientId,
    sub: clientId,
    aud: ISSUER,
    iat: now,
    exp: now + ASSERTION_LIFETIME,
    jti: randomBytes(16).toString('base64url'),
    ...overrides,
  }
}

/** A client assertion signed with `key` (`typ: client-authentication+jwt`, the key's kid). */
export function mintAssertion(key: KeyFixture, claims: Claims, header: Claims = {}): string {
  return mintToken(key, claims, { typ: 'client-authentication+jwt', ...header })
}

/**
 * The body of a `private_key_jwt` token request: the usual grant and scope plus the assertion
 * (a compact JWS is base64url and dots, so it needs no form-encoding).
 */
export function assertionRequestBody(assertion: string): string {
  return `${TOKEN_REQUEST_BODY}&client_assertion_type=${encodeURIComponent('urn:ietf:params:oauth:client-assertion-type:jwt-bearer')}&client_assertion=${assertion}`
}

/**
 * `count` token request bodies, one per line, each with its own never-used assertion of the key
 * client (unique jti), for load that a replay check cannot turn into 401s.
 */
export function writeAssertionBodiesFile(
  file: string,
  keyClient: Fixtures['keyClient'],
  count: number,
): void {
  const lines: string[] = []
  for (let i = 0; i < count; i++) {
    lines.push(assertionRequestBody(mintAssertion(keyClient.key, assertionClaims(keyClient.id))))
  }
  writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 })
}
