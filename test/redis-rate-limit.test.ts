import { randomBytes } from 'node:crypto'
import { rateLimitRedisCommand, staticClientStore, tokenEndpoint } from '@ccflow/issuer'
import express, { type Express } from 'express'
import { RedisStore } from 'rate-limit-redis'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { basic, makeClient, makeSigningKey } from './helpers.js'
import { REDIS_URL, skipWithoutRedis } from './support/redis.js'
import { type TestRedisClient, testRedisClient } from './support/redis-server.js'

const ISSUER = 'https://auth.example.com'
const AUDIENCE = 'https://orders.example'
const MAJOR = process.env.CCFLOW_EXPRESS_MAJOR ?? '5'
const skip = await skipWithoutRedis()

describe.skipIf(skip)(
  `two issuer instances sharing rate limits in Redis (Express ${MAJOR})`,
  () => {
    // A fresh prefix per run: parallel runs and earlier runs never share counters.
    const prefix = `ccflow-test:${randomBytes(6).toString('hex')}:`
    const key = makeSigningKey('ES256')
    let redis: TestRedisClient
    let secret: string
    let instances: [Express, Express]

    /** One issuer instance, as each process of a deployment would build it. */
    function issuerInstance(client: Parameters<typeof staticClientStore>[0][number]): Express {
      const sendCommand = rateLimitRedisCommand({ sendCommand: redis.sendCommand })
      const app = express()
      app.use(
        tokenEndpoint({
          issuer: ISSUER,
          clients: staticClientStore([client]),
          keys: [key.input],
          rateLimit: {
            failures: {
              limit: 3,
              store: new RedisStore({ sendCommand, prefix: `${prefix}rl:failures:` }),
            },
            issuance: {
              limit: 5,
              store: new RedisStore({ sendCommand, prefix: `${prefix}rl:issuance:` }),
            },
          },
        }),
      )
      return app
    }

    beforeAll(async () => {
      redis = testRedisClient(REDIS_URL)
      await redis.ready
      const made = await makeClient({
        client_id: 'svc',
        scope: 'orders:read',
        audiences: [AUDIENCE],
      })
      secret = made.secret
      instances = [issuerInstance(made.client), issuerInstance(made.client)]
    })

    afterAll(async () => {
      const keys = (await redis.sendCommand(['KEYS', `${prefix}*`])) as string[]
      if (keys.length > 0) await redis.sendCommand(['DEL', ...keys])
      redis.close()
    })

    const tokenRequest = (app: Express, clientSecret: string) =>
      request(app)
        .post('/token')
        .set('Authorization', basic('svc', clientSecret))
        .type('form')
        .send({ grant_type: 'client_credentials' })

    it('holds the per-client issuance quota across both instances: the sum of accepts is the limit', async () => {
      const statuses: number[] = []
      for (let i = 0; i < 10; i++) {
        statuses.push((await tokenRequest(instances[i % 2] as Express, secret)).status)
      }
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429, 429, 429])
    })

    it('answers the 429 from either instance with Retry-After and the shared count', async () => {
      const res = await tokenRequest(instances[1], secret)
      expect(res.status).toBe(429)
      expect(res.body).toMatchObject({ error: 'too_many_requests' })
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0)
      expect(res.headers['cache-control']).toBe('no-store')
      expect(res.headers['ratelimit']).toMatch(/"issuance"; r=0; t=\d+/)
    })

    it('holds the per-IP failure limit across both instances: the sum of 401s is the limit', async () => {
      const statuses: number[] = []
      for (let i = 0; i < 6; i++) {
        statuses.push((await tokenRequest(instances[i % 2] as Express, 'wrong-secret')).status)
      }
      expect(statuses).toEqual([401, 401, 401, 429, 429, 429])
    })

    it('keeps the two limiters under their own prefixes', async () => {
      const keys = (await redis.sendCommand(['KEYS', `${prefix}*`])) as string[]
      expect(keys).toHaveLength(2)
      expect(keys).toContain(`${prefix}rl:issuance:client:svc`)
      expect(keys.filter((k) => k.startsWith(`${prefix}rl:failures:`))).toHaveLength(1)
    })
  },
)
