import { once } from 'node:events'
import { generateClientSecret, hashClientSecret } from '@ccflow/issuer'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ON_EXPRESS_4,
  PROCESS_SUITE_SKIP_REASON,
  basic,
  fetchToken,
  makeSigningKey,
  tempDir,
} from './helpers.js'
import { type RunningProcess, startTs } from './support/processes.js'
import {
  type PrivateRedis,
  privateRedis,
  skipWithoutRedisServer,
  type TestRedisClient,
  testRedisClient,
} from './support/redis-server.js'

const AUDIENCE = 'https://reports.example'
const LISTENING = /listening on (http:\/\/127\.0\.0\.1:\d+)/
const { secretId: SECRET_ID, secret: SECRET } = generateClientSecret()
const reporter = { clientId: 'reporter', secret: SECRET }

/**
 * The example programs with REDIS_URL, as real processes on a private redis-server: two token
 * servers and a resource server share revocations, and Redis going away and coming back crashes
 * nothing and heals by itself.
 */
describe.skipIf(ON_EXPRESS_4 || skipWithoutRedisServer())(
  `token servers and a resource server sharing Redis (${PROCESS_SUITE_SKIP_REASON})`,
  () => {
    const dir = tempDir()
    let redis: PrivateRedis
    let client: TestRedisClient
    const procs: RunningProcess[] = []
    let tokenA: string
    let tokenB: string
    let api: string
    // The programs the log-line checks read, held directly so that a server that never started
    // fails those checks (a `procs[0]?.waitFor(…)` would pass on a missing one).
    let tokenServerA: RunningProcess
    let resourceServer: RunningProcess

    async function startServer(
      script: string,
      env: Record<string, string>,
    ): Promise<{ proc: RunningProcess; url: string }> {
      const proc = startTs(script, { HOST: '127.0.0.1', PORT: '0', REDIS_URL: redis.url, ...env })
      procs.push(proc)
      const [, url] = await proc.waitFor(LISTENING)
      return { proc, url: url as string }
    }

    const revoke = (issuer: string, token: string) =>
      fetch(`${issuer}/revoke`, {
        method: 'POST',
        headers: {
          authorization: basic(reporter.clientId, reporter.secret),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token }),
        signal: AbortSignal.timeout(5000),
      })

    const call = (token: string) =>
      fetch(`${api}/whoami`, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(5000),
      })

    /** Polls until `check` holds (bounded): the programs reconnect with their own backoff. */
    async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
      for (let i = 0; i < 100; i++) {
        if (await check().catch(() => false)) return
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      throw new Error(`not within 10 s: ${what}`)
    }

    beforeAll(async () => {
      redis = await privateRedis()
      await redis.start()
      client = testRedisClient(redis.url)
      await client.ready
      const key = makeSigningKey('ES256')
      const clientsFile = dir.file('clients.json', [
        {
          client_id: 'reporter',
          secrets: [{ id: SECRET_ID, hash: await hashClientSecret(SECRET) }],
          scope: 'reports:read',
          audiences: [AUDIENCE],
        },
      ])
      const keysFile = dir.file('keys.json', {
        keys: [{ ...key.privateJwk, kid: key.kid, alg: 'ES256' }],
      })
      // Two instances of one issuer: same ISSUER, same keys, same clients, same Redis.
      const first = await startServer('examples/token-server/server.ts', {
        CLIENTS_FILE: clientsFile,
        SIGNING_KEYS_FILE: keysFile,
      })
      tokenServerA = first.proc
      tokenA = first.url
      const second = await startServer('examples/token-server/server.ts', {
        CLIENTS_FILE: clientsFile,
        SIGNING_KEYS_FILE: keysFile,
        ISSUER: tokenA,
      })
      tokenB = second.url
      const resource = await startServer('examples/resource-server/server.ts', {
        ISSUER: tokenA,
        AUDIENCE,
        JWKS_URI: `${tokenA}/jwks.json`,
      })
      resourceServer = resource.proc
      api = resource.url
    })

    afterAll(async () => {
      await Promise.all(procs.map((proc) => proc.stop()))
      client?.close()
      await redis?.kill()
      dir.remove()
    })

    it('is ready with Redis reachable', async () => {
      for (const url of [tokenA, tokenB, api]) {
        const ready = await fetch(`${url}/ready`)
        expect([url, ready.status, await ready.json()]).toEqual([url, 200, { status: 'ready' }])
      }
    })

    it('says at startup that state is shared through Redis', async () => {
      await tokenServerA.waitFor(/rate limits and revocations shared through Redis/)
      await resourceServer.waitFor(/revoked tokens are checked in Redis/)
    })

    it('refuses, on the resource server, a token from instance A revoked through instance B', async () => {
      const { access_token } = await fetchToken(`${tokenA}/token`, reporter)
      expect((await revoke(tokenB, access_token)).status).toBe(200)
      const res = await call(access_token)
      expect(res.status).toBe(401)
      expect(await res.json()).toMatchObject({ error: 'invalid_token', reason: 'revoked' })
    })

    it('counts issuance in the shared limiter keys', async () => {
      await fetchToken(`${tokenB}/token`, reporter)
      const keys = (await client.sendCommand(['KEYS', 'ccflow:*'])) as string[]
      expect(keys).toContain('ccflow:rl:issuance:client:reporter')
      expect(keys.some((k) => k.startsWith('ccflow:revoked:'))).toBe(true)
    })

    it('keeps every program up while Redis is down: tokens 200, revocation 503, API 503', async () => {
      await redis.kill()
      const { access_token } = await fetchToken(`${tokenA}/token`, reporter)
      expect((await revoke(tokenB, access_token)).status).toBe(503)
      expect((await call(access_token)).status).toBe(503)
      expect(procs).toHaveLength(3)
      for (const proc of procs) expect(proc.child.exitCode).toBeNull()
      await tokenServerA.waitFor(/"level":"warn".*"msg":"redis unavailable; reconnecting"/)
      await resourceServer.waitFor(/"level":"warn".*"msg":"revocation check cannot reach Redis/)
      // The rate limiters' and the revocation check's complaints are log records too.
      for (const proc of procs) {
        for (const line of proc.output().trim().split('\n')) {
          expect(() => JSON.parse(line) as unknown, line).not.toThrow()
        }
      }
      // Not ready: a load balancer stops sending traffic to them.
      for (const url of [tokenA, api]) {
        const ready = await fetch(`${url}/ready`)
        expect([ready.status, await ready.json()]).toEqual([
          503,
          { status: 'not_ready', reasons: ['redis_unreachable'] },
        ])
      }
    })

    it('heals by itself when Redis is back', async () => {
      await redis.start()
      const { access_token } = await fetchToken(`${tokenA}/token`, reporter)
      await eventually(async () => (await call(access_token)).status === 200, 'API answers 200')
      // A token the API has not seen yet: its first lookup goes to Redis (no cached answer).
      const fresh = (await fetchToken(`${tokenB}/token`, reporter)).access_token
      await eventually(
        async () => (await revoke(tokenB, fresh)).status === 200,
        'revocation answers 200',
      )
      expect((await call(fresh)).status).toBe(401)
      await resourceServer.waitFor(/"msg":"redis connected again"/)
      for (const url of [tokenA, api]) {
        await eventually(async () => (await fetch(`${url}/ready`)).status === 200, `${url} ready`)
      }
    })

    it('refuses to start with a REDIS_URL that is not a redis URL, without echoing it', async () => {
      const proc = startTs('examples/resource-server/server.ts', {
        PORT: '0',
        ISSUER: tokenA,
        AUDIENCE,
        REDIS_URL: 'http://user:hunter2@example.com',
      })
      if (proc.child.exitCode === null) await once(proc.child, 'exit')
      expect(proc.child.exitCode).toBe(1)
      expect(proc.output()).toContain('REDIS_URL must be a redis:// or rediss:// URL')
      expect(proc.output()).not.toContain('hunter2')
    })
  },
)
