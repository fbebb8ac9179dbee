import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Listening, listenOnEphemeralPort, ON_EXPRESS_4 } from './helpers.js'
import { type RunningProcess, startTs } from './support/processes.js'
import { REDIS_URL, skipWithoutRedis } from './support/redis.js'
import { type TestRedisClient, testRedisClient } from './support/redis-server.js'

/**
 * Two processes, each with its own @ccflow/client and a redisTokenStore on the same real Redis,
 * ask for a token at the same moment on a cold cache: the token server (in this process) sees
 * one request, and both processes get that one token.
 */
const skip = await skipWithoutRedis()

// The child processes do not use Express, so the Express 5 run covers them once.

describe.skipIf(skip || ON_EXPRESS_4)('two processes sharing Redis', () => {
  const prefix = `ccflow-test:${randomBytes(6).toString('hex')}:token:`
  const requests: string[] = []
  let server: Listening
  let redis: TestRedisClient
  const children: RunningProcess[] = []

  beforeAll(async () => {
    redis = testRedisClient(REDIS_URL)
    await redis.ready
    server = await listenOnEphemeralPort(() => (req, res) => {
      let body = ''
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8')
      })
      req.on('end', () => {
        requests.push(body)
        const value = `fleet-token-${requests.length}-${randomBytes(8).toString('hex')}`
        // A slow answer, so that the second process asks while the first one's request runs.
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
          res.end(JSON.stringify({ access_token: value, token_type: 'Bearer', expires_in: 300 }))
        }, 500)
      })
    })
  })
  afterAll(async () => {
    await Promise.all(children.map((child) => child.stop()))
    const keys = (await redis.sendCommand(['KEYS', `${prefix}*`])) as string[]
    if (keys.length > 0) await redis.sendCommand(['DEL', ...keys])
    redis.close()
    await server.close()
  })

  it('makes exactly one token request between them, and both get the same token', async () => {
    const env = { REDIS_URL, TOKEN_ENDPOINT: `${server.url}/token`, TOKEN_PREFIX: prefix }
    children.push(startTs('test/support/redis-token-child.ts', env))
    children.push(startTs('test/support/redis-token-child.ts', env))
    await Promise.all(children.map((child) => child.waitFor(/^ready$/m, 20_000)))
    expect(await redis.sendCommand(['KEYS', `${prefix}*`])).toEqual([])

    for (const child of children) child.child.stdin?.write('go\n')
    const got = await Promise.all(
      children.map((child) => child.waitFor(/^token (\S+) (\S+)$/m, 20_000)),
    )

    expect(requests).toHaveLength(1)
    expect(new URLSearchParams(requests[0])).toMatchObject(
      new URLSearchParams({ grant_type: 'client_credentials', scope: 'reports:read' }),
    )
    const [first, second] = got.map((match) => match[1])
    expect(first).toMatch(/^fleet-token-1-/)
    expect(second).toBe(first)
    // One of them asked the server; the other read the token the first one stored.
    expect(got.map((match) => match[2]).sort()).toEqual(['network', 'store'])
    await Promise.all(children.map((child) => child.stop()))
  })
})
