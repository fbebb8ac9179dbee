/**
 * The demo (`pnpm demo`): starts the token server and the resource server with a demo client,
 * walks the client credentials flow printing each step with its curl command, then keeps serving
 * until Ctrl-C. With DEMO_ONCE=1 it exits after the walk: 0 when every step answered as expected.
 *
 * Ports: 4000 and 4001; DEMO_PORT_BASE=N uses N and N+1; PORT=0 picks two free ports.
 */
import {
  generateClientSecret,
  generateSigningKey,
  hashClientSecret,
  staticClientStore,
} from '@ccflow/issuer'
import * as env from '../shared/env.js'
import { closeOnSignal, fail, listen } from '../shared/serve.js'
import { createResourceServerApp } from '../resource-server/app.js'
import { createTokenServerApp } from '../token-server/app.js'

const PROGRAM = 'demo'
const CLIENT_ID = 'demo-client'
const AUDIENCE = 'https://reports.example'

function ports(): [number, number] {
  const base = env.optional(process.env, 'DEMO_PORT_BASE')
  if (base !== undefined) {
    if (!/^\d+$/.test(base) || Number(base) < 1 || Number(base) > 65_534) {
      throw new env.ConfigError('DEMO_PORT_BASE must be a port from 1 to 65534')
    }
    return [Number(base), Number(base) + 1]
  }
  return env.optional(process.env, 'PORT') === '0' ? [0, 0] : [4000, 4001]
}

/** One HTTP exchange, printed with its curl equivalent and checked against the expected status. */
async function step(
  title: string,
  curl: string,
  expected: number,
  send: () => Promise<Response>,
): Promise<{ ok: boolean; body: unknown }> {
  console.log(`\n▶ ${title}\n  $ ${curl}`)
  try {
    const res = await send()
    const text = await res.text()
    let body: unknown = text
    try {
      body = JSON.parse(text)
    } catch {
      // not JSON: print it as text
    }
    const challenge = res.headers.get('www-authenticate')
    console.log(`  ← ${res.status} ${text.length > 160 ? `${text.slice(0, 157)}...` : text}`)
    if (challenge !== null) console.log(`    WWW-Authenticate: ${challenge}`)
    const ok = res.status === expected
    console.log(ok ? `  ✓ ${expected} as expected` : `  ✗ expected ${expected}, got ${res.status}`)
    return { ok, body }
  } catch (err) {
    console.log(`  ✗ request failed: ${err instanceof Error ? err.message : String(err)}`)
    return { ok: false, body: undefined }
  }
}

try {
  const once = process.env.DEMO_ONCE === '1'
  const [tokenPort, apiPort] = ports()
  const { secretId, secret } = generateClientSecret()
  const client = {
    client_id: CLIENT_ID,
    client_name: 'Demo reporting client',
    scope: 'reports:read reports:write',
    audiences: [AUDIENCE],
    secrets: [{ id: secretId, hash: await hashClientSecret(secret) }],
  }
  const key = generateSigningKey('RS256')
  const tag = (name: string) => (line: string) => console.log(`    [${name}] ${line}`)
  const tokenServer = await listen(
    '127.0.0.1',
    tokenPort,
    (issuer) =>
      createTokenServerApp({
        issuer,
        clients: staticClientStore([client]),
        keys: [{ kid: key.kid, alg: key.alg, privateKey: key.privateKey }],
      }),
    tag('token-server'),
  )
  const issuer = tokenServer.url
  const api = await listen(
    '127.0.0.1',
    apiPort,
    () => createResourceServerApp({ issuer, audience: AUDIENCE }),
    tag('resource-server'),
  )
  console.log(
    `token server     ${issuer}  (issuer; metadata at /.well-known/oauth-authorization-server)`,
  )
  console.log(`resource server  ${api.url}  (audience ${AUDIENCE})`)
  console.log(`demo client      ${CLIENT_ID} / ${secret}  (scopes reports:read reports:write)`)

  const basic = `Basic ${Buffer.from(`${CLIENT_ID}:${secret}`).toString('base64')}`
  const form = (fields: Record<string, string>) => new URLSearchParams(fields)
  const tokenOf = (body: unknown) =>
    (body as { access_token?: string } | undefined)?.access_token ?? ''
  const extract = `node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token'`
  const results: boolean[] = []

  const metadata = await step(
    '0. Discover the token endpoint from the issuer metadata (RFC 8414)',
    `curl -s ${issuer}/.well-known/oauth-authorization-server`,
    200,
    () => fetch(`${issuer}/.well-known/oauth-authorization-server`),
  )
  results.push(metadata.ok)
  const tokenUrl =
    (metadata.body as { token_endpoint?: string } | undefined)?.token_endpoint ?? `${issuer}/token`

  const read = await step(
    '1. Get a token with client_secret_basic, scope reports:read',
    `READ_TOKEN=$(curl -s -u '${CLIENT_ID}:${secret}' -d grant_type=client_credentials -d scope=reports:read ${tokenUrl} | ${extract})`,
    200,
    () =>
      fetch(tokenUrl, {
        method: 'POST',
        headers: { authorization: basic },
        body: form({ grant_type: 'client_credentials', scope: 'reports:read' }),
      }),
  )
  results.push(read.ok)
  const readToken = tokenOf(read.body)

  results.push(
    (
      await step(
        '2. Call GET /reports with the token',
        `curl -s -H "Authorization: Bearer $READ_TOKEN" ${api.url}/reports`,
        200,
        () => fetch(`${api.url}/reports`, { headers: { authorization: `Bearer ${readToken}` } }),
      )
    ).ok,
  )
  results.push(
    (
      await step('3. Call GET /reports without a token', `curl -si ${api.url}/reports`, 401, () =>
        fetch(`${api.url}/reports`),
      )
    ).ok,
  )
  results.push(
    (
      await step(
        '4. Call POST /reports with the read-only token (needs reports:write)',
        `curl -si -H "Authorization: Bearer $READ_TOKEN" -H 'Content-Type: application/json' -d '{"title":"Q3"}' ${api.url}/reports`,
        403,
        () =>
          fetch(`${api.url}/reports`, {
            method: 'POST',
            headers: { authorization: `Bearer ${readToken}`, 'content-type': 'application/json' },
            body: JSON.stringify({ title: 'Q3' }),
          }),
      )
    ).ok,
  )
  const write = await step(
    '5. Get a reports:write token, this time with client_secret_post (credentials in the body)',
    `WRITE_TOKEN=$(curl -s -d grant_type=client_credentials -d client_id=${CLIENT_ID} -d client_secret=${secret} -d scope=reports:write ${tokenUrl} | ${extract})`,
    200,
    () =>
      fetch(tokenUrl, {
        method: 'POST',
        body: form({
          grant_type: 'client_credentials',
          client_id: CLIENT_ID,
          client_secret: secret,
          scope: 'reports:write',
        }),
      }),
  )
  results.push(write.ok)
  results.push(
    (
      await step(
        '6. Call POST /reports with the write token',
        `curl -s -H "Authorization: Bearer $WRITE_TOKEN" -H 'Content-Type: application/json' -d '{"title":"Q3"}' ${api.url}/reports`,
        201,
        () =>
          fetch(`${api.url}/reports`, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${tokenOf(write.body)}`,
              'content-type': 'application/json',
            },
            body: JSON.stringify({ title: 'Q3' }),
          }),
      )
    ).ok,
  )

  const passed = results.filter(Boolean).length
  const allPassed = passed === results.length
  console.log(`\n${allPassed ? '✓' : '✗'} ${passed}/${results.length} steps answered as expected`)
  if (once) {
    await Promise.all([tokenServer.close(), api.close()])
    process.exit(allPassed ? 0 : 1)
  }
  console.log('Both servers keep running; try the curl commands above. Ctrl-C stops them.')
  closeOnSignal(PROGRAM, tokenServer, api)
} catch (err) {
  fail(PROGRAM, err)
}
