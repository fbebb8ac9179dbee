import {
  constants,
  createHmac,
  createSecretKey,
  generateKeyPairSync,
  randomUUID,
  sign,
} from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import express from 'express'
import type { ErrorRequestHandler, Express, RequestHandler } from 'express'
import { SignJWT } from 'jose'

export const ISSUER = 'https://auth.example.com'
export const AUDIENCE = 'https://api.example.com'
/** A fixed, obviously fake 32-byte HMAC test secret. */
export const HMAC_SECRET = 'test-only-hmac-secret-0123456789'

export interface KeyPair {
  privateKey: KeyObject
  publicKey: KeyObject
}

/** An RSA key pair (2048 bits unless given). */
export function rsaKeyPair(modulusLength = 2048): KeyPair {
  return generateKeyPairSync('rsa', { modulusLength })
}

/** An EC key pair on a JOSE curve. */
export function ecKeyPair(namedCurve: 'P-256' | 'P-384' | 'P-521' = 'P-256'): KeyPair {
  return generateKeyPairSync('ec', { namedCurve })
}

/** The HMAC secret as a KeyObject. */
export function hmacKey(secret: string = HMAC_SECRET): KeyObject {
  return createSecretKey(Buffer.from(secret))
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000)
}

/** RFC 9068 claims as @ccflow/issuer writes them, valid for five minutes from now. */
export function accessClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = nowSeconds()
  return {
    iss: ISSUER,
    sub: 'billing-service',
    client_id: 'billing-service',
    aud: AUDIENCE,
    scope: 'reports:read reports:write',
    iat: now,
    exp: now + 300,
    jti: randomUUID(),
    ...overrides,
  }
}

export function b64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url')
}

/** Signs `signingInput` for a JWS algorithm with node:crypto (no JOSE library in the way). */
function signInput(alg: string, signingInput: string, key: KeyObject | string): Buffer {
  const bits = alg.slice(2)
  const hash = `sha${bits}`
  if (alg.startsWith('HS')) {
    return createHmac(hash, typeof key === 'string' ? Buffer.from(key) : key)
      .update(signingInput)
      .digest()
  }
  const data = Buffer.from(signingInput)
  if (alg.startsWith('RS')) return sign(hash, data, key)
  if (alg.startsWith('PS')) {
    return sign(hash, data, {
      key: key as KeyObject,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: Number(bits) / 8,
    })
  }
  if (alg.startsWith('ES'))
    return sign(hash, data, { key: key as KeyObject, dsaEncoding: 'ieee-p1363' })
  throw new Error(`test helper cannot sign ${alg}`)
}

/**
 * Builds a compact JWS by hand, so tests can send what a JOSE library would refuse to produce:
 * raw header/payload JSON text (duplicate members), `crit`, `alg: none`, key confusion.
 * `key: undefined` gives an empty signature.
 */
export function craftToken(
  header: Record<string, unknown> | string,
  payload: Record<string, unknown> | string,
  key?: KeyObject | string,
  alg?: string,
): string {
  const h = b64url(typeof header === 'string' ? header : JSON.stringify(header))
  const p = b64url(typeof payload === 'string' ? payload : JSON.stringify(payload))
  const input = `${h}.${p}`
  if (key === undefined) return `${input}.`
  const algorithm = alg ?? (typeof header === 'string' ? 'RS256' : String(header.alg))
  return `${input}.${signInput(algorithm, input, key).toString('base64url')}`
}

/** Signs claims with jose's SignJWT (the interop path): RS256 and `typ: at+jwt` by default. */
export async function signToken(
  claims: Record<string, unknown>,
  key: KeyObject,
  header: { alg?: string; typ?: string; kid?: string } = {},
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: header.alg ?? 'RS256', typ: header.typ ?? 'at+jwt', ...header })
    .sign(key)
}

/** The JSON body of a supertest response, typed for member access. */
export function bodyOf(res: { body: unknown }): Record<string, unknown> {
  return res.body as Record<string, unknown>
}

/** An error handler that shows what reached `next(err)`. */
export const echoError: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
  void _next
  const e = err as { status?: number; code?: string; reason?: string; name?: string }
  res.status(599).json({ name: e.name, status: e.status, code: e.code ?? null, reason: e.reason })
}

/**
 * An app with `guard` on GET/POST /api answering `{ auth: req.auth }`, plus GET /health that is
 * not guarded (to prove the process still serves after an attack).
 */
export function createApp(guard: RequestHandler, ...after: RequestHandler[]): Express {
  const app = express()
  app.use(express.urlencoded({ extended: false }))
  app.get('/health', (_req, res) => {
    res.json({ ok: true })
  })
  const handler: RequestHandler = (req, res) => {
    res.json({
      clientId: req.auth?.clientId ?? null,
      scopes: req.auth?.scopes ?? null,
      sub: req.auth?.claims.sub ?? null,
      kid: req.auth?.header.kid ?? null,
    })
  }
  app.get('/api', guard, ...after, handler)
  app.post('/api', guard, ...after, handler)
  app.options('/api', guard, (_req, res) => {
    res.status(204).end()
  })
  app.use(echoError)
  return app
}
