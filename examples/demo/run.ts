/**
 * The demo (`pnpm demo`): starts the token server and the resource server with two demo clients
 * (one with a secret, one with a key for private_key_jwt), walks the client credentials flow
 * printing each step with its curl command (steps 10 and 11 with @ccflow/client, as code would),
 * scrapes the token server's metrics (step 12), then keeps serving until Ctrl-C. The servers'
 * request logs are printed as short lines between the steps (LOG_LEVEL applies). With
 * DEMO_ONCE=1 it exits after the walk: 0 when every step answered as expected.
 *
 * Ports: 4000, 4001 and 9464 (metrics); DEMO_PORT_BASE=N uses N, N+1 and N+2; PORT=0 picks free
 * ports.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
// The demo also plays the key client, which signs its own assertions: ccflow's JWS signer.
import { signJws } from '@ccflow/core'
// In code, a client gets, caches and sends its tokens with @ccflow/client (steps 10 and 11).
import { createTokenClient } from '@ccflow/client'
import {
  generateClientSecret,
  generateSigningKey,
  hashClientSecret,
  jsonFileClientStore,
} from '@ccflow/issuer'
import { registerGuardMetrics } from '@ccflow/guard/prometheus'
import { registerIssuerMetrics } from '@ccflow/issuer/prometheus'
import * as env from '../shared/env.js'
import { logLevel } from '../shared/log.js'
import { serveMetrics } from '../shared/metrics.js'
import { prettyLogger } from '../shared/pretty.js'
import { closeOnSignal, fail, listen } from '../shared/serve.js'
import { createResourceServerApp } from '../resource-server/app.js'
import { logGuardEvents } from '../resource-server/events.js'
import { createTokenServerApp } from '../token-server/app.js'
import { logIssuerEvents } from '../token-server/events.js'

const PROGRAM = 'demo'
const CLIENT_ID = 'demo-client'
const KEY_CLIENT_ID = 'demo-key-client'
const AUDIENCE = 'https://reports.example'
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

function ports(): [number, number, number] {
  const base = env.optional(process.env, 'DEMO_PORT_BASE')
  if (base !== undefined) {
    if (!/^\d+$/.test(base) || Number(base) < 1 || Number(base) > 65_533) {
      throw new env.ConfigError('DEMO_PORT_BASE must be a port from 1 to 65533')
    }
    return [Number(base), Number(base) + 1, Number(base) + 2]
  }
  return env.optional(process.env, 'PORT') === '0' ? [0, 0, 0] : [4000, 4001, 9464]
}

/** One HTTP exchange, printed with its curl equivalent and checked against the expected status. */
async function step(
  title: string,
  curl: string | readonly string[],
  expected: number,
  send: () => Promise<Response>,
  echo = true,
): Promise<{ ok: boolean; body: unknown }> {
  const commands = typeof curl === 'string' ? [curl] : curl
  // A line starting with '>' is code, not a shell command.
  const shown = commands.map((command) =>
    command.startsWith('>') ? `  ${command}` : `  $ ${command}`,
  )
  console.log(`\n▶ ${title}\n${shown.join('\n')}`)
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
    const shownBody = !echo ? '' : text.length > 160 ? `${text.slice(0, 157)}...` : text
    console.log(`  ← ${res.status} ${shownBody}`.trimEnd())
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
  const [tokenPort, apiPort, metricsPort] = ports()
  const level = logLevel(process.env)
  const logger = prettyLogger(PROGRAM, level)
  const tokenLogger = prettyLogger('token-server', level)
  const apiLogger = prettyLogger('resource-server', level)
  const { secretId, secret } = generateClientSecret()
  // The key client's ES256 key pair, as `ccflow keygen --client` makes it: the private JWK (with
  // kid, alg, use) stays with the client, here a file for `ccflow assertion --key`; only the
  // public JWK goes into the clients file.
  const clientKey = generateSigningKey('ES256')
  const files = mkdtempSync(join(tmpdir(), 'ccflow-demo-'))
  process.on('exit', () => rmSync(files, { recursive: true, force: true }))
  const keyFile = join(files, `${KEY_CLIENT_ID}.jwk`)
  writeFileSync(keyFile, `${JSON.stringify(clientKey.privateJwk, null, 2)}\n`, { mode: 0o600 })
  const clientsFile = join(files, 'clients.json')
  const clients = [
    {
      client_id: CLIENT_ID,
      client_name: 'Demo reporting client',
      scope: 'reports:read reports:write',
      audiences: [AUDIENCE],
      secrets: [{ id: secretId, hash: await hashClientSecret(secret) }],
    },
    {
      client_id: KEY_CLIENT_ID,
      client_name: 'Demo client authenticating with its own key',
      scope: 'reports:read',
      audiences: [AUDIENCE],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [clientKey.publicJwk] },
    },
  ]
  writeFileSync(clientsFile, `${JSON.stringify(clients, null, 2)}\n`, { mode: 0o600 })
  const key = generateSigningKey('RS256')
  // The metrics of both servers (one process here), as METRICS_PORT serves them; step 12
  // scrapes them.
  const metrics = await serveMetrics('127.0.0.1', metricsPort, (registry) => {
    registerIssuerMetrics({ registry })
    registerGuardMetrics({ registry })
  })
  const tokenServer = await listen(
    '127.0.0.1',
    tokenPort,
    (issuer) =>
      createTokenServerApp({
        issuer,
        // As the token server reads CLIENTS_FILE.
        clients: jsonFileClientStore(clientsFile),
        keys: [{ kid: key.kid, alg: key.alg, privateKey: key.privateKey }],
        onEvent: logIssuerEvents(tokenLogger),
      }),
    tokenLogger,
  )
  const issuer = tokenServer.url
  const api = await listen(
    '127.0.0.1',
    apiPort,
    () =>
      createResourceServerApp({ issuer, audience: AUDIENCE, onEvent: logGuardEvents(apiLogger) }),
    apiLogger,
  )
  console.log(
    `token server     ${issuer}  (issuer; metadata at /.well-known/oauth-authorization-server)`,
  )
  console.log(`resource server  ${api.url}  (audience ${AUDIENCE})`)
  console.log(`metrics          ${metrics.url}/metrics  (both servers', for Prometheus)`)
  console.log(`demo client      ${CLIENT_ID} / ${secret}  (scopes reports:read reports:write)`)
  console.log(`key client       ${KEY_CLIENT_ID}  (private_key_jwt, scope reports:read)`)
  console.log(`  private JWK    ${keyFile}  (removed when the demo exits)`)
  console.log(`  clients file   ${clientsFile}  (the client's public JWK in "jwks")`)

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
  const discovered = metadata.body as { token_endpoint?: string; issuer?: string } | undefined
  const tokenUrl = discovered?.token_endpoint ?? `${issuer}/token`
  // A client assertion is addressed to the issuer identifier, exactly as the metadata names it.
  const assertionAudience = discovered?.issuer ?? issuer

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

  /** A fresh RFC 7523 client assertion, as `ccflow assertion` makes it: 60 s, a new jti. */
  const clientAssertion = (): string => {
    const iat = Math.floor(Date.now() / 1000)
    return signJws(
      { alg: 'ES256', kid: clientKey.kid, typ: 'client-authentication+jwt' },
      {
        iss: KEY_CLIENT_ID,
        sub: KEY_CLIENT_ID,
        aud: assertionAudience,
        iat,
        exp: iat + 60,
        jti: randomBytes(16).toString('base64url'),
      },
      clientKey.privateKey,
    )
  }
  const assertion = clientAssertion()
  const assertionForm = () =>
    form({
      grant_type: 'client_credentials',
      scope: 'reports:read',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: assertion,
    })
  // From the repository root: the root script `pnpm ccflow` runs the built CLI.
  const makeAssertion = `ASSERTION=$(pnpm ccflow assertion --key ${keyFile} --client-id ${KEY_CLIENT_ID} --issuer ${assertionAudience})`
  const assertionCurl = `-d grant_type=client_credentials -d scope=reports:read -d client_assertion_type=${ASSERTION_TYPE} --data-urlencode client_assertion="$ASSERTION" ${tokenUrl}`
  const keyToken = await step(
    `7. Get a token with private_key_jwt: ${KEY_CLIENT_ID} signs a fresh assertion with its own key (RFC 7523), no secret`,
    [makeAssertion, `KEY_TOKEN=$(curl -s ${assertionCurl} | ${extract})`],
    200,
    () => fetch(tokenUrl, { method: 'POST', body: assertionForm() }),
  )
  results.push(keyToken.ok)
  results.push(
    (
      await step(
        '8. Send the same assertion again: each one is accepted once (its jti is remembered until it expires)',
        `curl -si ${assertionCurl}`,
        401,
        () => fetch(tokenUrl, { method: 'POST', body: assertionForm() }),
      )
    ).ok,
  )
  results.push(
    (
      await step(
        "9. Call GET /whoami with the key client's token",
        `curl -s -H "Authorization: Bearer $KEY_TOKEN" ${api.url}/whoami`,
        200,
        () =>
          fetch(`${api.url}/whoami`, {
            headers: { authorization: `Bearer ${tokenOf(keyToken.body)}` },
          }),
      )
    ).ok,
  )

  // The same calls as code makes them: @ccflow/client discovers the token endpoint, gets a token
  // (a fresh assertion per request for the key client), caches it until shortly before it
  // expires, and adds it to each request.
  const secretClient = createTokenClient({
    issuer,
    clientId: CLIENT_ID,
    clientSecret: secret,
    scope: 'reports:read',
    resource: AUDIENCE,
  })
  const keyClient = createTokenClient({
    issuer,
    clientId: KEY_CLIENT_ID,
    privateKey: clientKey.privateJwk,
    scope: 'reports:read',
    resource: AUDIENCE,
  })
  results.push(
    (
      await step(
        `10. In code with @ccflow/client: ${CLIENT_ID} calls GET /reports (discovery, token, cache)`,
        [
          `> const tokens = createTokenClient({ issuer: '${issuer}', clientId: '${CLIENT_ID}', clientSecret, scope: 'reports:read', resource: '${AUDIENCE}' })`,
          `> await tokens.fetch('${api.url}/reports')`,
        ],
        200,
        () => secretClient.fetch(`${api.url}/reports`),
      )
    ).ok,
  )
  results.push(
    (
      await step(
        `11. In code with @ccflow/client: ${KEY_CLIENT_ID} calls GET /whoami (private_key_jwt, a new assertion per token request)`,
        [
          `> const tokens = createTokenClient({ issuer: '${issuer}', clientId: '${KEY_CLIENT_ID}', privateKey: <the private JWK>, scope: 'reports:read', resource: '${AUDIENCE}' })`,
          `> await tokens.fetch('${api.url}/whoami')`,
        ],
        200,
        () => keyClient.fetch(`${api.url}/whoami`),
      )
    ).ok,
  )
  await Promise.all([secretClient.close(), keyClient.close()])

  // What Prometheus scrapes: the counters the walk moved, a few lines of them.
  const shown = /^ccflow_(issuer_token_requests_total|guard_requests_total)\{/
  const scraped = await step(
    '12. Scrape the metrics (METRICS_PORT): the token requests and guarded calls above, counted',
    `curl -s ${metrics.url}/metrics | grep -E '^ccflow_(issuer_token_requests|guard_requests)_total'`,
    200,
    () => fetch(`${metrics.url}/metrics`),
    false,
  )
  const lines = typeof scraped.body === 'string' ? scraped.body.split('\n') : []
  const counters = lines.filter((line) => shown.test(line))
  for (const line of counters) console.log(`    ${line}`)
  results.push(scraped.ok && counters.length > 0)

  const passed = results.filter(Boolean).length
  const allPassed = passed === results.length
  console.log(`\n${allPassed ? '✓' : '✗'} ${passed}/${results.length} steps answered as expected`)
  if (once) {
    await Promise.all([tokenServer.close(), api.close(), metrics.close()])
    process.exit(allPassed ? 0 : 1)
  }
  console.log('Both servers keep running; try the curl commands above. Ctrl-C stops them.')
  closeOnSignal(logger, [tokenServer, api, metrics])
} catch (err) {
  fail(PROGRAM, err)
}
