// Behaviour checks run against every target before it is loaded, so that a target that
// accepts everything (or answers errors fast) cannot win. A failing target is excluded.
import {
  accessClaims,
  assertionClaims,
  assertionRequestBody,
  AUDIENCE,
  basicAuth,
  ISSUER,
  mintAssertion,
  mintToken,
  ROUTE,
  ROUTE_BODY,
  SCOPE,
  TOKEN_PATH,
  TOKEN_REQUEST_BODY,
  verifyJwt,
  type Alg,
  type Fixtures,
} from './fixtures.js'
import { parseJson, send, type HttpResponse } from './http.js'
import type { Target } from './targets.js'

export interface CheckResult {
  name: string
  ok: boolean
  detail: string
}

interface GuardCase {
  name: string
  authorization: string | undefined
  status: number
}

/** Tokens the guard checks use, minted once per algorithm. */
export interface GuardTokens {
  valid: string
  cases: GuardCase[]
}

function tamperSignature(token: string): string {
  const dot = token.lastIndexOf('.')
  const sig = token.slice(dot + 1)
  // A character in the middle: every bit of it is significant (the last one may not be).
  const i = Math.floor(sig.length / 2)
  const swapped = sig[i] === 'A' ? 'B' : 'A'
  return `${token.slice(0, dot + 1)}${sig.slice(0, i)}${swapped}${sig.slice(i + 1)}`
}

function tamperPayload(token: string): string {
  const [h = '', p = '', s = ''] = token.split('.')
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>
  const forged = Buffer.from(JSON.stringify({ ...claims, scope: `${SCOPE} admin` }))
  return `${h}.${forged.toString('base64url')}.${s}`
}

function unsigned(): string {
  const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')
  const payload = Buffer.from(JSON.stringify(accessClaims())).toString('base64url')
  return `${header}.${payload}.`
}

export function guardTokens(fixtures: Fixtures, alg: Alg): GuardTokens {
  const key = fixtures.keys[alg]
  const valid = mintToken(key, accessClaims())
  const bearer = (token: string): string => `Bearer ${token}`
  const now = Math.floor(Date.now() / 1000)
  return {
    valid,
    cases: [
      { name: 'valid token', authorization: bearer(valid), status: 200 },
      { name: 'no token', authorization: undefined, status: 401 },
      { name: 'tampered signature', authorization: bearer(tamperSignature(valid)), status: 401 },
      { name: 'tampered payload', authorization: bearer(tamperPayload(valid)), status: 401 },
      {
        name: 'wrong audience',
        authorization: bearer(mintToken(key, accessClaims({ aud: 'https://other.bench.local' }))),
        status: 401,
      },
      {
        name: 'wrong issuer',
        authorization: bearer(mintToken(key, accessClaims({ iss: 'https://evil.bench.local' }))),
        status: 401,
      },
      {
        name: 'expired token',
        authorization: bearer(mintToken(key, accessClaims({ iat: now - 7200, exp: now - 3600 }))),
        status: 401,
      },
      { name: 'alg none', authorization: bearer(unsigned()), status: 401 },
      {
        name: 'signed by another key with the same kid',
        authorization: bearer(mintToken(fixtures.impostors[alg], accessClaims())),
        status: 401,
      },
      {
        name: 'missing scope',
        authorization: bearer(mintToken(key, accessClaims({ scope: 'write:orders' }))),
        status: 403,
      },
      { name: 'valid token again', authorization: bearer(valid), status: 200 },
    ],
  }
}

function expectRoute(res: HttpResponse): string | undefined {
  const body = parseJson(res.body)
  return JSON.stringify(body) === JSON.stringify(ROUTE_BODY)
    ? undefined
    : `body ${res.body.slice(0, 80)}`
}

async function checkRoute(port: number, c: GuardCase): Promise<CheckResult> {
  const headers: Record<string, string> = c.authorization ? { authorization: c.authorization } : {}
  const res = await send({ port, method: 'GET', path: ROUTE, headers })
  const name = `${c.name} → ${c.status}`
  if (res.status !== c.status) return { name, ok: false, detail: `got ${res.status}` }
  const bad = c.status === 200 ? expectRoute(res) : undefined
  return { name, ok: bad === undefined, detail: bad ?? 'ok' }
}

function checkIssuedToken(res: HttpResponse, fixtures: Fixtures, alg: Alg): string | undefined {
  const body = parseJson(res.body) as Record<string, unknown> | undefined
  if (typeof body?.access_token !== 'string') return 'no access_token'
  if (String(body.token_type).toLowerCase() !== 'bearer')
    return `token_type ${String(body.token_type)}`
  const jwt = verifyJwt(body.access_token, fixtures.keys[alg])
  if (!jwt) return 'access_token does not verify with the configured key'
  const { header, claims } = jwt
  if (header.alg !== alg) return `alg ${String(header.alg)}`
  if (claims.iss !== ISSUER) return `iss ${String(claims.iss)}`
  const aud: unknown[] = Array.isArray(claims.aud) ? claims.aud : [claims.aud]
  if (!aud.includes(AUDIENCE)) return `aud ${JSON.stringify(claims.aud)}`
  if (typeof claims.scope !== 'string' || !claims.scope.split(' ').includes(SCOPE))
    return `scope ${String(claims.scope)}`
  if (typeof claims.exp !== 'number' || claims.exp <= Date.now() / 1000) return 'exp'
  return undefined
}

async function checkIssuer(port: number, fixtures: Fixtures, alg: Alg): Promise<CheckResult[]> {
  const post = (authorization: string): Promise<HttpResponse> =>
    send({
      port,
      method: 'POST',
      path: TOKEN_PATH,
      headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
      body: TOKEN_REQUEST_BODY,
    })
  const { id, secret } = fixtures.client
  const results: CheckResult[] = []
  const good = await post(basicAuth(id, secret))
  const bad = good.status === 200 ? checkIssuedToken(good, fixtures, alg) : `got ${good.status}`
  results.push({ name: 'good client → 200 with a token', ok: !bad, detail: bad ?? 'ok' })
  for (const [name, auth] of [
    ['wrong secret → 401', basicAuth(id, `${secret.slice(0, -4)}AAAA`)],
    ['unknown client → 401', basicAuth('nobody', secret)],
  ] as const) {
    const res = await post(auth)
    results.push({ name, ok: res.status === 401, detail: `got ${res.status}` })
  }
  return results
}

/**
 * The checks of a `private_key_jwt` issuer: a fresh assertion gets a token; the same assertion
 * again, one signed by another key with the same kid, one addressed to the token endpoint URL
 * instead of the issuer, an expired one, one naming an unknown client, and the secret-based
 * Basic request of the other targets all get 401.
 */
async function checkAssertionIssuer(
  port: number,
  fixtures: Fixtures,
  alg: Alg,
): Promise<CheckResult[]> {
  const { keyClient } = fixtures
  const post = (body: string, headers: Record<string, string> = {}): Promise<HttpResponse> =>
    send({
      port,
      method: 'POST',
      path: TOKEN_PATH,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body,
    })
  const signed = (claims: Record<string, unknown> = {}, key = keyClient.key): string =>
    assertionRequestBody(mintAssertion(key, assertionClaims(keyClient.id, claims)))
  const results: CheckResult[] = []
  const body = signed()
  const good = await post(body)
  const bad = good.status === 200 ? checkIssuedToken(good, fixtures, alg) : `got ${good.status}`
  results.push({ name: 'fresh assertion → 200 with a token', ok: !bad, detail: bad ?? 'ok' })
  const now = Math.floor(Date.now() / 1000)
  const refused: [string, () => Promise<HttpResponse>][] = [
    ['the same assertion again (replay) → 401', () => post(body)],
    ['signed by another key with the same kid → 401', () => post(signed({}, keyClient.impostor))],
    [
      'aud is the token endpoint, not the issuer → 401',
      () => post(signed({ aud: `${ISSUER}${TOKEN_PATH}` })),
    ],
    ['expired assertion → 401', () => post(signed({ iat: now - 600, exp: now - 300 }))],
    ['unknown client → 401', () => post(signed({ iss: 'nobody', sub: 'nobody' }))],
    [
      'a client secret instead of an assertion → 401',
      () =>
        post(TOKEN_REQUEST_BODY, {
          authorization: basicAuth(keyClient.id, fixtures.client.secret),
        }),
    ],
  ]
  for (const [name, request] of refused) {
    const res = await request()
    results.push({ name, ok: res.status === 401, detail: `got ${res.status}` })
  }
  return results
}

/** Runs the checks of one target; any thrown error counts as a failed check. */
export async function runChecks(
  target: Target,
  port: number,
  fixtures: Fixtures,
  tokens: Record<Alg, GuardTokens>,
): Promise<CheckResult[]> {
  try {
    switch (target.kind) {
      case 'ceiling':
        return [await checkRoute(port, { name: 'route', authorization: undefined, status: 200 })]
      case 'guard': {
        const results: CheckResult[] = []
        for (const c of tokens[target.alg ?? 'RS256'].cases) results.push(await checkRoute(port, c))
        return results
      }
      case 'issuer':
        return target.load === 'assertion-request'
          ? await checkAssertionIssuer(port, fixtures, target.alg ?? 'RS256')
          : await checkIssuer(port, fixtures, target.alg ?? 'RS256')
    }
  } catch (err) {
    return [
      { name: 'request', ok: false, detail: err instanceof Error ? err.message : String(err) },
    ]
  }
}
