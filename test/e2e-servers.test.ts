import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { Agent, createServer, request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { resolve } from 'node:path'
import { promisify } from 'node:util'
import { readFileSync } from 'node:fs'
import {
  generateClientSecret,
  hashClientSecret,
  jsonFileClientStore,
  type SigningKeysInput,
  tokenEndpoint,
} from '@ccflow/issuer'
import express from 'express'
import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from 'jose'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTokenServerApp } from '../examples/token-server/app.js'
import { loadTokenServerConfig } from '../examples/token-server/config.js'
import {
  ON_EXPRESS_4,
  PROCESS_SUITE_SKIP_REASON,
  body,
  fetchToken,
  makeSigningKey,
  tempDir,
} from './helpers.js'
import { type LogRecord, logRecords, requestRecords } from './support/logs.js'
import { ROOT, type RunningProcess, startTs } from './support/processes.js'

const run = promisify(execFile)

const AUDIENCE = 'https://reports.example'
const LISTENING = /listening on (http:\/\/127\.0\.0\.1:\d+)/

/** Starts a program and resolves with it and its URL once it prints `listening on <url>`. */
async function startServer(
  script: string,
  env: Record<string, string>,
): Promise<{ proc: RunningProcess; url: string }> {
  const proc = startTs(script, { HOST: '127.0.0.1', PORT: '0', ...env })
  const [, url] = await proc.waitFor(LISTENING)
  return { proc, url: url as string }
}

/** Resolves with the exit code once the process has exited by itself. */
async function exited(proc: RunningProcess): Promise<number | null> {
  const { child } = proc
  if (child.exitCode === null && child.signalCode === null) await once(child, 'exit')
  return child.exitCode
}

/** Runs a program that should refuse to start; resolves with its exit code and log records. */
async function startupFailure(
  script: string,
  env: Record<string, string>,
): Promise<{ code: number | null; lines: LogRecord[] }> {
  const proc = startTs(script, { PORT: '0', ...env })
  const code = await exited(proc)
  const text = proc.output().trim()
  // Every line is one JSON record.
  return { code, lines: text.split('\n').map((line) => JSON.parse(line) as LogRecord) }
}

describe.skipIf(ON_EXPRESS_4)(
  `token server and resource server as processes (${PROCESS_SUITE_SKIP_REASON})`,
  () => {
    const dir = tempDir()
    // A human-chosen secret (stored with scrypt) and a generated one (HMAC).
    const humanSecret = 'a human-chosen secret'
    const generated = generateClientSecret()
    let tokenServer: { proc: RunningProcess; url: string }
    let resourceServer: { proc: RunningProcess; url: string }
    let metricsUrl: string
    let apiMetricsUrl: string
    const reporter = { clientId: 'reporter', secret: humanSecret }
    const writer = { clientId: 'writer', secret: generated.secret }

    beforeAll(async () => {
      const key = makeSigningKey('RS256')
      const clientsFile = dir.file('clients.json', [
        {
          client_id: 'reporter',
          secrets: [{ id: 'human', hash: await hashClientSecret(humanSecret) }],
          scope: 'reports:read',
          audiences: [AUDIENCE],
        },
        {
          client_id: 'writer',
          secrets: [{ id: generated.secretId, hash: await hashClientSecret(generated.secret) }],
          scope: 'reports:read reports:write',
          audiences: [AUDIENCE],
        },
      ])
      const keysFile = dir.file('keys.json', {
        keys: [{ ...key.privateJwk, kid: key.kid, alg: 'RS256' }],
      })
      tokenServer = await startServer('examples/token-server/server.ts', {
        CLIENTS_FILE: clientsFile,
        SIGNING_KEYS_FILE: keysFile,
        METRICS_PORT: '0',
      })
      const [, metrics] = await tokenServer.proc.waitFor(/metrics listening on (http:[^\s"]+)/)
      metricsUrl = metrics as string
      resourceServer = await startServer('examples/resource-server/server.ts', {
        ISSUER: tokenServer.url,
        AUDIENCE,
        METRICS_PORT: '0',
      })
      const [, apiMetrics] = await resourceServer.proc.waitFor(
        /metrics listening on (http:[^\s"]+)/,
      )
      apiMetricsUrl = apiMetrics as string
    })
    afterAll(async () => {
      await Promise.all([tokenServer?.proc.stop(), resourceServer?.proc.stop()])
      dir.remove()
    })

    it('logs its startup as JSON records: the URL, the issuer derived from the port it bound', async () => {
      await tokenServer.proc.waitFor(/"msg":"issuer /)
      const records = logRecords(tokenServer.proc.output())
      expect(records).toContainEqual(
        expect.objectContaining({
          level: 'info',
          program: 'token-server',
          url: tokenServer.url,
          msg: `token server listening on ${tokenServer.url}`,
        }),
      )
      expect(records).toContainEqual(expect.objectContaining({ issuer: tokenServer.url }))
      for (const record of records) expect(Date.parse(String(record.time))).not.toBeNaN()
    })

    it('answers GET /health and GET /ready on both servers, without a token', async () => {
      for (const url of [tokenServer.url, resourceServer.url]) {
        const health = await fetch(`${url}/health`)
        expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }])
        expect(health.headers.get('cache-control')).toBe('no-store')
      }
      // The token server has its signing key; the resource server has fetched the key set.
      const ready = await fetch(`${tokenServer.url}/ready`)
      expect([ready.status, await ready.json()]).toEqual([200, { status: 'ready' }])
      await fetch(`${resourceServer.url}/whoami`)
      const apiReady = await fetch(`${resourceServer.url}/ready`)
      expect([apiReady.status, await apiReady.json()]).toEqual([200, { status: 'ready' }])
    })

    it('runs the full flow with client_secret_basic: token, 200, 401, 403', async () => {
      const { access_token } = await fetchToken(`${tokenServer.url}/token`, reporter)
      const auth = { authorization: `Bearer ${access_token}` }
      const ok = await fetch(`${resourceServer.url}/reports`, { headers: auth })
      expect(ok.status).toBe(200)
      const whoami = await fetch(`${resourceServer.url}/whoami`, { headers: auth })
      expect(await whoami.json()).toEqual({
        client_id: 'reporter',
        scope: 'reports:read',
        aud: AUDIENCE,
      })
      const anonymous = await fetch(`${resourceServer.url}/reports`)
      expect(anonymous.status).toBe(401)
      expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer realm=/)
      const denied = await fetch(`${resourceServer.url}/reports`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: '{"title":"Q3"}',
      })
      expect(denied.status).toBe(403)
      expect(denied.headers.get('www-authenticate')).toContain('error="insufficient_scope"')
    })

    it('runs the full flow with client_secret_post', async () => {
      const { access_token, scope } = await fetchToken(
        `${tokenServer.url}/token`,
        writer,
        { scope: 'reports:write' },
        'client_secret_post',
      )
      expect(scope).toBe('reports:write')
      const created = await fetch(`${resourceServer.url}/reports`, {
        method: 'POST',
        headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
        body: '{"title":"Q3"}',
      })
      expect(created.status).toBe(201)
      expect(await created.json()).toMatchObject({ title: 'Q3', created_by: 'writer' })
    })

    it('logs one JSON line per request: route, status, duration, outcome, reason, client_id; never secrets', async () => {
      await fetch(`${tokenServer.url}/.well-known/oauth-authorization-server?x=1`)
      const wrong = await fetch(`${tokenServer.url}/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from('writer:not-it').toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'client_credentials' }),
      })
      expect(wrong.status).toBe(401)
      const { access_token } = await fetchToken(`${tokenServer.url}/token`, writer)
      const expired = `${access_token.slice(0, -4)}AAAA`
      await fetch(`${resourceServer.url}/reports`, {
        headers: { authorization: `Bearer ${expired}` },
      })
      await tokenServer.proc.waitFor(/"route":"\/\.well-known\/oauth-authorization-server"/)
      await resourceServer.proc.waitFor(/"reason":"bad_signature"/)
      const tokenLines = requestRecords(tokenServer.proc.output())
      expect(tokenLines).toContainEqual({
        method: 'POST',
        route: '/token',
        status: 200,
        duration_ms: expect.any(Number) as number,
        outcome: 'success',
        client_id: 'reporter',
      })
      expect(tokenLines).toContainEqual(
        expect.objectContaining({
          route: '/token',
          status: 401,
          outcome: 'invalid_client',
          reason: 'wrong_secret',
          client_id: 'writer',
        }),
      )
      expect(tokenLines).toContainEqual(
        expect.objectContaining({
          method: 'GET',
          route: '/.well-known/oauth-authorization-server',
          outcome: 'success',
        }),
      )
      const apiLines = requestRecords(resourceServer.proc.output())
      expect(apiLines).toContainEqual(
        expect.objectContaining({ route: '/reports', status: 401, outcome: 'missing_token' }),
      )
      expect(apiLines).toContainEqual(
        expect.objectContaining({
          route: '/reports',
          status: 401,
          outcome: 'invalid_token',
          reason: 'bad_signature',
        }),
      )
      expect(apiLines).toContainEqual(
        expect.objectContaining({ route: '/whoami', status: 200, client_id: 'reporter' }),
      )
      expect(apiLines).toContainEqual(
        expect.objectContaining({ route: '/reports', status: 403, outcome: 'insufficient_scope' }),
      )
      const output = tokenServer.proc.output() + resourceServer.proc.output()
      expect(output).not.toContain('x=1')
      for (const secret of [generated.secret, humanSecret, 'not-it', access_token, expired]) {
        expect(output).not.toContain(secret)
      }
      // The token's signature alone, and its jti, are not there either.
      expect(output).not.toContain(access_token.split('.')[2])
      const { jti } = JSON.parse(
        Buffer.from(access_token.split('.')[1] as string, 'base64url').toString(),
      ) as { jti: string }
      expect(output).not.toContain(jti)
    })

    it('serves /metrics on its own loopback port, and counts exactly the requests made', async () => {
      expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
      expect(new URL(metricsUrl).port).not.toBe(new URL(tokenServer.url).port)
      const scrape = async (): Promise<Map<string, number>> => {
        const res = await fetch(metricsUrl)
        expect(res.status).toBe(200)
        const series = new Map<string, number>()
        for (const line of (await res.text()).split('\n')) {
          const match = /^(ccflow_issuer_\w+(?:\{[^}]*\})?) (\S+)$/.exec(line)
          if (match) series.set(match[1] as string, Number(match[2]))
        }
        return series
      }
      const before = await scrape()
      await fetchToken(`${tokenServer.url}/token`, reporter)
      await fetchToken(`${tokenServer.url}/token`, writer, {}, 'client_secret_post')
      for (const secret of ['wrong', 'also wrong']) {
        const res = await fetch(`${tokenServer.url}/token`, {
          method: 'POST',
          headers: {
            authorization: `Basic ${Buffer.from(`reporter:${secret}`).toString('base64')}`,
          },
          body: new URLSearchParams({ grant_type: 'client_credentials' }),
        })
        expect(res.status).toBe(401)
      }
      const after = await scrape()
      const moved = (name: string): number => (after.get(name) ?? 0) - (before.get(name) ?? 0)
      expect(
        moved(
          'ccflow_issuer_token_requests_total{grant_type="client_credentials",outcome="success"}',
        ),
      ).toBe(2)
      expect(
        moved(
          'ccflow_issuer_token_requests_total{grant_type="client_credentials",outcome="invalid_client"}',
        ),
      ).toBe(2)
      expect(
        moved(
          'ccflow_issuer_client_authentications_total{method="client_secret_basic",outcome="failure",reason="wrong_secret"}',
        ),
      ).toBe(2)
      expect(moved('ccflow_issuer_token_request_duration_seconds_count{outcome="success"}')).toBe(2)
      expect(after.get('ccflow_issuer_signing_keys{state="active"}')).toBe(1)
      // Not on the public port.
      expect((await fetch(`${tokenServer.url}/metrics`)).status).toBe(404)
    })

    it('serves the resource server /metrics on its own loopback port: guard counters move by exactly the requests made', async () => {
      expect(apiMetricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
      const scrape = async (): Promise<Map<string, number>> => {
        const res = await fetch(apiMetricsUrl)
        expect(res.status).toBe(200)
        const text = await res.text()
        expect(text).toContain('process_cpu_user_seconds_total')
        const series = new Map<string, number>()
        for (const line of text.split('\n')) {
          const match = /^(ccflow_guard_\w+(?:\{[^}]*\})?) (\S+)$/.exec(line)
          if (match) series.set(match[1] as string, Number(match[2]))
        }
        return series
      }
      const { access_token } = await fetchToken(`${tokenServer.url}/token`, reporter)
      const before = await scrape()
      const auth = { authorization: `Bearer ${access_token}` }
      expect((await fetch(`${resourceServer.url}/whoami`, { headers: auth })).status).toBe(200)
      expect((await fetch(`${resourceServer.url}/reports`, { headers: auth })).status).toBe(200)
      expect((await fetch(`${resourceServer.url}/reports`)).status).toBe(401)
      const forged = `${access_token.slice(0, access_token.lastIndexOf('.'))}.${'A'.repeat(342)}`
      const refused = await fetch(`${resourceServer.url}/reports`, {
        headers: { authorization: `Bearer ${forged}` },
      })
      expect(refused.status).toBe(401)
      const after = await scrape()
      const moved = (name: string): number => (after.get(name) ?? 0) - (before.get(name) ?? 0)
      expect(moved('ccflow_guard_requests_total{outcome="success",reason="none"}')).toBe(2)
      expect(
        moved('ccflow_guard_requests_total{outcome="unauthorized",reason="missing_token"}'),
      ).toBe(1)
      expect(
        moved('ccflow_guard_requests_total{outcome="invalid_token",reason="bad_signature"}'),
      ).toBe(1)
      // The second call with the same token was answered from the verified-token cache.
      expect(moved('ccflow_guard_token_cache_hits_total')).toBe(1)
      expect(after.get('ccflow_guard_jwks_keys')).toBe(1)
      expect((await fetch(`${resourceServer.url}/metrics`)).status).toBe(404)
    })

    it('finishes an in-flight request and exits 0 on SIGTERM', async () => {
      const { access_token } = await fetchToken(`${tokenServer.url}/token`, writer, {
        scope: 'reports:write',
      })
      const agent = new Agent({ keepAlive: true })
      // POST /reports whose body is still arriving when the signal comes: it must still be answered.
      const answered = new Promise<number | undefined>((resolve, reject) => {
        const req = httpRequest(
          `${resourceServer.url}/reports`,
          {
            agent,
            method: 'POST',
            headers: {
              authorization: `Bearer ${access_token}`,
              'content-type': 'application/json',
              'transfer-encoding': 'chunked',
            },
          },
          (res) => {
            res.resume()
            res.on('end', () => resolve(res.statusCode))
          },
        )
        req.on('error', reject)
        req.write('{"title":')
        setTimeout(() => {
          resourceServer.proc.child.kill('SIGTERM')
          setTimeout(() => req.end('"late"}'), 300)
        }, 300)
      })
      expect(await answered).toBe(201)
      expect(await exited(resourceServer.proc)).toBe(0)
      agent.destroy()
      expect(resourceServer.proc.output()).toContain('SIGTERM received')
    })

    it('exits 0 on SIGINT', async () => {
      expect(await tokenServer.proc.stop('SIGINT')).toBe(0)
    })
  },
)

describe.skipIf(ON_EXPRESS_4)(
  `token server with OTEL_EXPORTER_OTLP_ENDPOINT (${PROCESS_SUITE_SKIP_REASON})`,
  () => {
    const dir = tempDir()
    /** What the collector received, by path (`/v1/traces`, `/v1/metrics`): parsed JSON bodies. */
    const received = new Map<string, unknown[]>()
    let raw = ''
    const collector = createServer((req, res) => {
      let body = ''
      req.setEncoding('utf8')
      req.on('data', (chunk: string) => (body += chunk))
      req.on('end', () => {
        raw += body
        const list = received.get(req.url ?? '') ?? []
        list.push(JSON.parse(body) as unknown)
        received.set(req.url ?? '', list)
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      })
    })
    let tokenServer: { proc: RunningProcess; url: string }
    let resourceServer: { proc: RunningProcess; url: string }
    const secret = generateClientSecret()

    beforeAll(async () => {
      await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve))
      const { port } = collector.address() as AddressInfo
      const clientsFile = dir.file('clients.json', [
        {
          client_id: 'traced',
          secrets: [{ id: secret.secretId, hash: await hashClientSecret(secret.secret) }],
          scope: 'reports:read',
          audiences: [AUDIENCE],
        },
      ])
      tokenServer = await startServer('examples/token-server/server.ts', {
        CLIENTS_FILE: clientsFile,
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
        OTEL_BSP_SCHEDULE_DELAY: '50',
        OTEL_METRIC_EXPORT_INTERVAL: '200',
      })
      resourceServer = await startServer('examples/resource-server/server.ts', {
        ISSUER: tokenServer.url,
        AUDIENCE,
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}/`,
        OTEL_SERVICE_NAME: 'reports-api',
        OTEL_BSP_SCHEDULE_DELAY: '50',
      })
    })
    afterAll(async () => {
      await Promise.all([tokenServer?.proc.stop(), resourceServer?.proc.stop()])
      collector.close()
      dir.remove()
    })

    /** Every span the collector received so far, with its service name. */
    const spans = (): { service: unknown; span: OtlpSpan }[] =>
      (received.get('/v1/traces') ?? []).flatMap((body) =>
        (body as OtlpTraces).resourceSpans.flatMap((rs) =>
          rs.scopeSpans.flatMap((ss) =>
            ss.spans.map((span) => ({
              service: rs.resource.attributes.find((a) => a.key === 'service.name')?.value
                .stringValue,
              span,
            })),
          ),
        ),
      )
    const attribute = (span: OtlpSpan, key: string): unknown => {
      const value = span.attributes.find((a) => a.key === key)?.value
      return value?.stringValue ?? value?.boolValue
    }

    it('sends a ccflow.token span per token request, and the issuer metrics, over OTLP/HTTP', async () => {
      const { access_token } = await fetchToken(`${tokenServer.url}/token`, {
        clientId: 'traced',
        secret: secret.secret,
      })
      const refused = await fetch(`${tokenServer.url}/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from('traced:wrong').toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'client_credentials' }),
      })
      expect(refused.status).toBe(401)
      const deadline = Date.now() + 10_000
      while (
        spans().filter(({ span }) => span.name === 'ccflow.token').length < 2 ||
        !raw.includes('ccflow.issuer.token_requests')
      ) {
        if (Date.now() > deadline) throw new Error(`not received in 10 s: ${raw.slice(0, 2000)}`)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      const roots = spans().filter(({ span }) => span.name === 'ccflow.token')
      expect(roots.map(({ service }) => service)).toEqual(['token-server', 'token-server'])
      expect(roots.map(({ span }) => attribute(span, 'ccflow.outcome')).sort()).toEqual([
        'invalid_client',
        'success',
      ])
      const failed = roots.find(({ span }) => attribute(span, 'ccflow.outcome') !== 'success')
      expect(attribute(failed?.span as OtlpSpan, 'error.type')).toBe('invalid_client')
      // Its steps are child spans of the same trace.
      const children = spans().filter(
        ({ span }) => span.parentSpanId === roots[0]?.span.spanId && span.parentSpanId !== '',
      )
      expect(children.map(({ span }) => span.name)).toContain('ccflow.client_authentication')
      // Never a secret or a token on the wire to the collector.
      for (const value of [secret.secret, access_token, access_token.split('.')[2] as string]) {
        expect(raw).not.toContain(value)
      }
    })

    it('sends a ccflow.guard.verify span per verification from the resource server', async () => {
      const { access_token } = await fetchToken(`${tokenServer.url}/token`, {
        clientId: 'traced',
        secret: secret.secret,
      })
      const auth = { authorization: `Bearer ${access_token}` }
      expect((await fetch(`${resourceServer.url}/whoami`, { headers: auth })).status).toBe(200)
      const expired = `${access_token.slice(0, access_token.lastIndexOf('.'))}.${'A'.repeat(342)}`
      const refused = await fetch(`${resourceServer.url}/whoami`, {
        headers: { authorization: `Bearer ${expired}` },
      })
      expect(refused.status).toBe(401)
      const verifies = () =>
        spans().filter(
          ({ service, span }) => service === 'reports-api' && span.name === 'ccflow.guard.verify',
        )
      const deadline = Date.now() + 10_000
      while (verifies().length < 2) {
        if (Date.now() > deadline) throw new Error(`not received in 10 s: ${raw.slice(0, 2000)}`)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      expect(
        verifies()
          .map(({ span }) => attribute(span, 'ccflow.outcome'))
          .sort(),
      ).toEqual(['invalid_token', 'success'])
      expect(raw).not.toContain(access_token.split('.')[2] as string)
    })

    it('flushes and exits 0 on SIGTERM', async () => {
      expect(await tokenServer.proc.stop('SIGTERM')).toBe(0)
      expect(tokenServer.proc.output()).toContain('"msg":"stopped"')
    })
  },
)

interface OtlpValue {
  stringValue?: string
  boolValue?: boolean
}
interface OtlpSpan {
  name: string
  spanId: string
  parentSpanId?: string
  attributes: { key: string; value: OtlpValue }[]
}
interface OtlpTraces {
  resourceSpans: {
    resource: { attributes: { key: string; value: OtlpValue }[] }
    scopeSpans: { spans: OtlpSpan[] }[]
  }[]
}

describe.skipIf(ON_EXPRESS_4)(`bad configuration (${PROCESS_SUITE_SKIP_REASON})`, () => {
  const dir = tempDir()
  afterAll(() => dir.remove())

  it('stops the token server with exit 1 and one fatal record when CLIENTS_FILE is missing', async () => {
    const { code, lines } = await startupFailure('examples/token-server/server.ts', {})
    expect(code).toBe(1)
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'fatal',
        program: 'token-server',
        msg: expect.stringMatching(/^CLIENTS_FILE is required/) as string,
      }),
    ])
  })

  it('stops the token server with exit 1 and one fatal record naming the right field for an old one', async () => {
    const file = dir.file('clients.json', [{ client_id: 'a', client_secret_hash: 'x', scope: 's' }])
    const { code, lines } = await startupFailure('examples/token-server/server.ts', {
      CLIENTS_FILE: file,
    })
    expect(code).toBe(1)
    expect(lines.map((line) => line.msg)).toEqual([
      `CLIENTS_FILE ${file}[0] (client_id "a"): client_secret_hash is not a ` +
        'record field; put the hash in secrets: [{ id, hash }]',
    ])
  })

  it('stops the resource server with exit 1 and one fatal record when ISSUER is missing', async () => {
    const { code, lines } = await startupFailure('examples/resource-server/server.ts', { AUDIENCE })
    expect(code).toBe(1)
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'fatal',
        program: 'resource-server',
        msg: expect.stringMatching(/^ISSUER is required/) as string,
      }),
    ])
  })

  it('stops with exit 1 on a LOG_LEVEL it does not know, naming the levels', async () => {
    const { code, lines } = await startupFailure('examples/resource-server/server.ts', {
      AUDIENCE,
      ISSUER: 'http://127.0.0.1:4000',
      LOG_LEVEL: 'verbose',
    })
    expect(code).toBe(1)
    expect(lines.map((line) => line.msg)).toEqual([
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
    ])
  })
})

describe.skipIf(ON_EXPRESS_4)(`the demo (${PROCESS_SUITE_SKIP_REASON})`, () => {
  it('walks the whole flow and exits 0 with DEMO_ONCE=1', async () => {
    const demo = startTs('examples/demo/run.ts', { DEMO_ONCE: '1', PORT: '0' })
    const code = await exited(demo)
    const output = demo.output()
    expect(output).toMatch(/✓ 13\/13 steps answered as expected/)
    // The servers' request logs, as short lines between the steps.
    expect(output).toMatch(
      /^ {4}\[token-server\] POST \/token 401 [\d.]+ms invalid_client reason=assertion_replayed client_id=demo-key-client$/m,
    )
    // Step 12: the token requests of the walk, counted in the scraped metrics.
    expect(output).toMatch(
      /^ {4}ccflow_issuer_token_requests_total\{grant_type="client_credentials",outcome="invalid_client"\} 1$/m,
    )
    // The last two steps are made in code with @ccflow/client.
    expect(output).toMatch(
      /▶ 11\. In code with @ccflow\/client[^\n]*\n(?:.*\n)*?\s+✓ 200 as expected/,
    )
    expect(output).toContain('$ curl')
    // The private_key_jwt steps: the assertion from the CLI, then the same one replayed.
    expect(output).toContain('$ ASSERTION=$(pnpm ccflow assertion --key ')
    expect(output).toMatch(
      /▶ 8\. Send the same assertion again[^\n]*\n(?:.*\n)*?\s+✓ 401 as expected/,
    )
    expect(code).toBe(0)
  })
})

describe.skipIf(ON_EXPRESS_4)(
  `operator CLI output as token server configuration (${PROCESS_SUITE_SKIP_REASON})`,
  () => {
    const dir = tempDir()
    afterAll(() => dir.remove())
    const cli = resolve(ROOT, 'packages/cli/dist/esm/cli-bin.js')
    const ccflow = async (...args: string[]): Promise<string> =>
      (await run(process.execPath, [cli, ...args], { env: { PATH: process.env.PATH } })).stdout

    it('loads `ccflow keygen --out` as SIGNING_KEYS_FILE and `ccflow secret` entries as secrets', async () => {
      const keysFile = resolve(dir.path, 'signing-keys.json')
      await ccflow('keygen', '--alg', 'ES256', '--kid', 'k-2025', '--out', keysFile)
      const single = JSON.parse(await ccflow('secret', '--json')) as {
        client_secret: string
        secret: { id: string; hash: string }
      }
      // A rotation: the old secret and the new one side by side.
      const old = JSON.parse(await ccflow('secret', '--json', '--id', 'old')) as typeof single
      const rotated = JSON.parse(await ccflow('secret', '--json', '--id', 'new')) as typeof single
      const clientsFile = dir.file('clients.json', [
        { client_id: 'a', secrets: [single.secret], scope: 's', audiences: [AUDIENCE] },
        {
          client_id: 'b',
          secrets: [old.secret, rotated.secret],
          scope: 's',
          audiences: [AUDIENCE],
        },
      ])
      const config = loadTokenServerConfig({
        CLIENTS_FILE: clientsFile,
        SIGNING_KEYS_FILE: keysFile,
      })
      expect(config.warnings).toEqual([])
      const app = createTokenServerApp({ ...config, issuer: 'http://127.0.0.1:4000' })
      for (const [id, secret] of [
        ['a', single.client_secret],
        ['b', old.client_secret],
        ['b', rotated.client_secret],
      ] as const) {
        const res = await request(app)
          .post('/token')
          .type('form')
          .send({ grant_type: 'client_credentials', client_id: id, client_secret: secret })
        expect(res.status).toBe(200)
        expect(decodeProtectedHeader(body(res).access_token as string)).toMatchObject({
          kid: 'k-2025',
          alg: 'ES256',
        })
      }
    })

    it('follows the issuer Quick start: keygen file and secrets entry straight into tokenEndpoint', async () => {
      // Step 1, as printed: the key file, then the human output of `ccflow secret`.
      const keysFile = resolve(dir.path, 'quick-start-keys.json')
      await ccflow('keygen', '--alg', 'ES256', '--out', keysFile)
      const printed = await ccflow('secret', '--id', 'k1')
      const entry = /^secrets entry\s+(\{.*\})$/m.exec(printed)?.[1] ?? ''
      const secret = /^client_secret\s+(\S+)$/m.exec(printed)?.[1] ?? ''
      // Step 2: the entry pasted into the record's secrets.
      const clientsFile = dir.file('quick-start-clients.json', [
        {
          client_id: 'billing',
          scope: 'invoices:read',
          audiences: ['https://api.example.com/invoices'],
          secrets: [JSON.parse(entry) as unknown],
        },
      ])
      // Step 3: the options as the Quick start writes them.
      const app = express()
      app.use(
        tokenEndpoint({
          issuer: 'http://127.0.0.1',
          clients: jsonFileClientStore(clientsFile),
          keys: JSON.parse(readFileSync(keysFile, 'utf8')) as SigningKeysInput,
          // Not set here: undefined means no pepper, as `ccflow secret` made the hash.
          secretPepper: process.env.CCFLOW_QUICK_START_PEPPER,
        }),
      )
      const res = await request(app)
        .post('/token')
        .auth('billing', secret)
        .type('form')
        .send({ grant_type: 'client_credentials' })
      expect(res.status).toBe(200)
      const jwks = createLocalJWKSet((await request(app).get('/jwks.json')).body as JSONWebKeySet)
      const { payload } = await jwtVerify(body(res).access_token as string, jwks, {
        issuer: 'http://127.0.0.1',
        audience: 'https://api.example.com/invoices',
      })
      expect(payload.client_id).toBe('billing')
    })
  },
)
