import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { Agent, request as httpRequest } from 'node:http'
import { resolve } from 'node:path'
import { promisify } from 'node:util'
import { generateClientSecret, hashClientSecret } from '@ccflow/issuer'
import { decodeProtectedHeader } from 'jose'
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

/** Runs a program that should refuse to start; resolves with its exit code and output lines. */
async function startupFailure(
  script: string,
  env: Record<string, string>,
): Promise<{ code: number | null; lines: string[] }> {
  const proc = startTs(script, { PORT: '0', ...env })
  return { code: await exited(proc), lines: proc.output().trim().split('\n') }
}

describe.skipIf(ON_EXPRESS_4)(
  `token server and resource server as processes (${PROCESS_SUITE_SKIP_REASON})`,
  () => {
    const dir = tempDir()
    const plainSecret = 'demo-only plain secret'
    const generated = generateClientSecret()
    let tokenServer: { proc: RunningProcess; url: string }
    let resourceServer: { proc: RunningProcess; url: string }
    const reporter = { clientId: 'reporter', secret: plainSecret }
    const writer = { clientId: 'writer', secret: generated.secret }

    beforeAll(async () => {
      const key = makeSigningKey('RS256')
      const clientsFile = dir.file('clients.json', [
        {
          client_id: 'reporter',
          client_secret: plainSecret,
          scope: 'reports:read',
          audience: [AUDIENCE],
        },
        {
          client_id: 'writer',
          secrets: [{ id: generated.secretId, hash: await hashClientSecret(generated.secret) }],
          scope: 'reports:read reports:write',
          audience: [AUDIENCE],
        },
      ])
      const keysFile = dir.file('keys.json', {
        keys: [{ ...key.privateJwk, kid: key.kid, alg: 'RS256' }],
      })
      tokenServer = await startServer('examples/token-server/server.ts', {
        CLIENTS_FILE: clientsFile,
        SIGNING_KEYS_FILE: keysFile,
      })
      resourceServer = await startServer('examples/resource-server/server.ts', {
        ISSUER: tokenServer.url,
        AUDIENCE,
      })
    })
    afterAll(async () => {
      await Promise.all([tokenServer?.proc.stop(), resourceServer?.proc.stop()])
      dir.remove()
    })

    it('prints the issuer, derived from the port it bound', async () => {
      await tokenServer.proc.waitFor(/^issuer /m)
      expect(tokenServer.proc.output()).toContain(`issuer ${tokenServer.url} `)
    })

    it('warns at startup about the plain client_secret, without printing it', () => {
      expect(tokenServer.proc.output()).toMatch(
        /token-server: warning: .*"reporter"\) has a plain client_secret/,
      )
      expect(tokenServer.proc.output()).not.toContain(plainSecret)
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

    it('logs one line per request with method, path, status and time, never secrets', async () => {
      await fetch(`${tokenServer.url}/.well-known/oauth-authorization-server?x=1`)
      await tokenServer.proc.waitFor(/GET \/\.well-known\/oauth-authorization-server 200 \d+ms/)
      const output = tokenServer.proc.output()
      expect(output).toMatch(/^POST \/token 200 \d+ms$/m)
      expect(output).not.toContain('x=1')
      expect(output).not.toContain(generated.secret)
      expect(resourceServer.proc.output()).toMatch(/^GET \/reports 401 \d+ms$/m)
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

describe.skipIf(ON_EXPRESS_4)(`bad configuration (${PROCESS_SUITE_SKIP_REASON})`, () => {
  const dir = tempDir()
  afterAll(() => dir.remove())

  it('stops the token server with exit 1 and one line when CLIENTS_FILE is missing', async () => {
    const { code, lines } = await startupFailure('examples/token-server/server.ts', {})
    expect(code).toBe(1)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^token-server: CLIENTS_FILE is required/)
  })

  it('stops the token server with exit 1 and one line when a record is invalid', async () => {
    const file = dir.file('clients.json', [{ client_id: 'a', client_secret_hash: 'x', scope: 's' }])
    const { code, lines } = await startupFailure('examples/token-server/server.ts', {
      CLIENTS_FILE: file,
    })
    expect(code).toBe(1)
    expect(lines).toEqual([
      `token-server: CLIENTS_FILE ${file}[0] (client_id "a").client_secret_hash must be a hash ` +
        'made by hashClientSecret or `ccflow hash` (never the secret)',
    ])
  })

  it('stops the resource server with exit 1 and one line when ISSUER is missing', async () => {
    const { code, lines } = await startupFailure('examples/resource-server/server.ts', { AUDIENCE })
    expect(code).toBe(1)
    expect(lines).toEqual([expect.stringMatching(/^resource-server: ISSUER is required/)])
  })
})

describe.skipIf(ON_EXPRESS_4)(`the demo (${PROCESS_SUITE_SKIP_REASON})`, () => {
  it('walks the whole flow and exits 0 with DEMO_ONCE=1', async () => {
    const demo = startTs('examples/demo/run.ts', { DEMO_ONCE: '1', PORT: '0' })
    const code = await exited(demo)
    const output = demo.output()
    expect(output).toMatch(/✓ 12\/12 steps answered as expected/)
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

    it('loads `ccflow keygen --out` as SIGNING_KEYS_FILE and `ccflow secret` records as clients', async () => {
      const keysFile = resolve(dir.path, 'signing-keys.json')
      await ccflow('keygen', '--alg', 'ES256', '--kid', 'k-2025', '--out', keysFile)
      const rotated = JSON.parse(await ccflow('secret', '--json')) as {
        client_secret: string
        secret: { id: string; hash: string }
      }
      const single = JSON.parse(await ccflow('secret', '--json')) as typeof rotated
      const clientsFile = dir.file('clients.json', [
        { client_id: 'a', secrets: [rotated.secret], scope: 's', audience: [AUDIENCE] },
        {
          client_id: 'b',
          client_secret_hash: single.secret.hash,
          client_secret_id: single.secret.id,
          scope: 's',
          audience: [AUDIENCE],
        },
      ])
      const config = loadTokenServerConfig({
        CLIENTS_FILE: clientsFile,
        SIGNING_KEYS_FILE: keysFile,
      })
      expect(config.warnings).toEqual([])
      const app = createTokenServerApp({ ...config, issuer: 'http://127.0.0.1:4000' })
      for (const [id, secret] of [
        ['a', rotated.client_secret],
        ['b', single.client_secret],
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
  },
)
