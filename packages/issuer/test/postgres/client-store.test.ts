import express from 'express'
import type pg from 'pg'
import request from 'supertest'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { type IssuerEvent, tokenEndpoint } from '../../src/index.js'
import {
  type ClientRegistry,
  migrate,
  type PgPool,
  postgresClientRegistry,
  postgresClientStore,
  type PostgresClientStore,
} from '../../src/postgres.js'
import { basic, ISSUER, signingKey } from '../helpers.js'
import {
  createTestDatabase,
  databaseProxy,
  type DatabaseProxy,
  skipWithoutPostgres,
  type TestDatabase,
} from './helpers.js'

const skip = await skipWithoutPostgres()
const AUDIENCE = 'https://api.example.com'
const base = { scope: 'invoices:read', audiences: [AUDIENCE] }
const HOUR = 3_600_000

/** Counts the statements a store sends through its pool. */
function countingPool(pool: pg.Pool): PgPool & { queries: string[] } {
  const queries: string[] = []
  return {
    queries,
    query(text: string, values?: unknown[]) {
      queries.push(text)
      return pool.query(text, values)
    },
    connect: () => pool.connect(),
  }
}

describe('postgresClientStore options', () => {
  const pool = {
    query: () => Promise.reject(new Error('unused')),
    connect: () => Promise.reject(new Error('unused')),
  }

  it('throws a TypeError naming a misspelt option', () => {
    expect(() => postgresClientStore({ pool, cacheTTLMs: 1 } as never)).toThrow(
      'postgresClientStore: unknown option "cacheTTLMs" (did you mean "cacheTtlMs"?)',
    )
  })

  it('throws a TypeError without a pool or with something else', () => {
    expect(() => postgresClientStore({} as never)).toThrow(/option "pool" is required/)
    expect(() => postgresClientStore({ pool: { query() {} } } as never)).toThrow(/option "pool"/)
    expect(() => postgresClientStore(undefined as never)).toThrow(/options must be an object/)
  })

  it('throws a TypeError for values out of range', () => {
    expect(() => postgresClientStore({ pool, cacheTtlMs: -1 })).toThrow(/option "cacheTtlMs"/)
    expect(() => postgresClientStore({ pool, maxCachedClients: 0 })).toThrow(/"maxCachedClients"/)
    expect(() => postgresClientStore({ pool, queryTimeoutMs: 0 })).toThrow(/"queryTimeoutMs"/)
    expect(() => postgresClientStore({ pool, listen: 'yes' as never })).toThrow(/"listen"/)
  })
})

describe.skipIf(skip)('postgresClientStore', () => {
  let db: TestDatabase
  let pool: pg.Pool
  let registry: ClientRegistry
  const stores: PostgresClientStore[] = []
  const open = (
    options: Omit<Parameters<typeof postgresClientStore>[0], 'pool'> & { pool?: PgPool } = {},
  ): PostgresClientStore => {
    const store = postgresClientStore({ pool, ...options })
    stores.push(store)
    return store
  }

  beforeAll(async () => {
    db = await createTestDatabase()
    pool = db.pool()
    await migrate(pool)
    registry = postgresClientRegistry({ pool, actor: 'test' })
  })
  afterAll(() => db?.drop())
  beforeEach(async () => {
    await pool.query('TRUNCATE ccflow_clients, ccflow_client_secrets, ccflow_audit')
  })
  afterEach(async () => {
    vi.useRealTimers()
    await Promise.all(stores.splice(0).map((store) => store.close()))
  })

  describe('ready', () => {
    it('refuses a database without the ccflow schema, saying to run ccflow db migrate', async () => {
      const empty = await createTestDatabase()
      try {
        const store = postgresClientStore({ pool: empty.pool(), listen: false })
        await expect(store.ready()).rejects.toMatchObject({
          name: 'RegistryError',
          code: 'schema_mismatch',
          message: expect.stringMatching(
            /version 0, this package needs 1: run `ccflow db migrate`/,
          ) as string,
        })
      } finally {
        await empty.drop()
      }
    })

    it('resolves on the current schema once LISTEN is up', async () => {
      const store = open()
      await expect(store.ready()).resolves.toBeUndefined()
      await expect(store.ready()).resolves.toBeUndefined()
    })
  })

  describe('findClient', () => {
    it('finds a registered client as the registry stores it, and nothing for an unknown id', async () => {
      const { client } = await registry.create({ client_id: 'billing', ...base })
      const store = open({ listen: false })
      expect(await store.findClient('billing')).toEqual(client)
      expect(await store.findClient('nobody')).toBeUndefined()
    })

    it('costs one round trip on a miss and none on a hit, for found and unknown ids', async () => {
      await registry.create({ client_id: 'billing', ...base })
      const counting = countingPool(pool)
      const store = open({ pool: counting, listen: false })
      await store.findClient('billing')
      await store.findClient('nobody')
      expect(counting.queries).toHaveLength(2)
      await store.findClient('billing')
      await store.findClient('nobody')
      expect(counting.queries).toHaveLength(2)
    })

    it('shares one query between concurrent lookups of one id', async () => {
      await registry.create({ client_id: 'billing', ...base })
      const counting = countingPool(pool)
      const store = open({ pool: counting, listen: false })
      const found = await Promise.all([1, 2, 3].map(() => store.findClient('billing')))
      expect(new Set(found).size).toBe(1)
      expect(counting.queries).toHaveLength(1)
    })

    it('looks a client up again once its cache entry has expired', async () => {
      await registry.create({ client_id: 'billing', ...base })
      vi.useFakeTimers({ toFake: ['Date'] })
      const store = open({ listen: false, cacheTtlMs: 1000 })
      await store.findClient('billing')
      await registry.disable('billing')
      expect((await store.findClient('billing'))?.disabled).toBeUndefined()
      vi.setSystemTime(Date.now() + 1000)
      expect((await store.findClient('billing'))?.disabled).toBe(true)
    })

    it('caches nothing with cacheTtlMs 0', async () => {
      await registry.create({ client_id: 'billing', ...base })
      const counting = countingPool(pool)
      const store = open({ pool: counting, listen: false, cacheTtlMs: 0 })
      await store.findClient('billing')
      await store.findClient('billing')
      expect(counting.queries).toHaveLength(2)
    })

    it('keeps at most maxCachedClients entries, dropping the least recently used', async () => {
      const counting = countingPool(pool)
      const store = open({ pool: counting, listen: false, maxCachedClients: 2 })
      for (const id of ['a', 'b', 'a', 'c', 'a', 'b']) await store.findClient(id)
      // a, b miss; a hits; c misses and evicts b; a hits; b misses.
      expect(counting.queries).toHaveLength(4)
    })

    it('rejects with a TypeError naming the field for a row that is not a valid record', async () => {
      await registry.create({ client_id: 'billing', ...base })
      await pool.query(`UPDATE ccflow_clients SET metadata = metadata || '{"audience": "x"}'`)
      const store = open({ listen: false })
      await expect(store.findClient('billing')).rejects.toThrow(
        /^ccflow_clients row \(client_id "billing"\): audience is not a record field/,
      )
    })
  })

  describe('LISTEN/NOTIFY', () => {
    it('evicts a client as soon as the registry changes it', async () => {
      await registry.create({ client_id: 'billing', ...base })
      const store = open({ cacheTtlMs: HOUR })
      await store.ready()
      expect((await store.findClient('billing'))?.disabled).toBeUndefined()
      await registry.disable('billing')
      await vi.waitFor(async () => expect((await store.findClient('billing'))?.disabled).toBe(true))
    })

    it('finds a client created after its id was looked up and found missing', async () => {
      const store = open({ cacheTtlMs: HOUR })
      await store.ready()
      expect(await store.findClient('late')).toBeUndefined()
      await registry.create({ client_id: 'late', ...base })
      await vi.waitFor(async () => expect(await store.findClient('late')).toBeDefined())
    })

    it('starts listening on the first lookup when ready() was not awaited', async () => {
      await registry.create({ client_id: 'billing', ...base })
      const store = open({ cacheTtlMs: HOUR })
      await store.findClient('billing')
      const listening = async (): Promise<number> => {
        const { rows } = await pool.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE query = 'LISTEN ccflow_clients' AND datname = current_database()",
        )
        return rows[0]?.n ?? 0
      }
      await vi.waitFor(async () => expect(await listening()).toBe(1))
      await store.close()
      await vi.waitFor(async () => expect(await listening()).toBe(0))
    })

    it('drops the cache when its LISTEN connection was lost and is back', async () => {
      await registry.create({ client_id: 'billing', ...base })
      const store = open({ cacheTtlMs: HOUR })
      await store.ready()
      await store.findClient('billing')
      // Change the row behind the registry's back (no NOTIFY) while LISTEN is cut.
      await pool.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN ccflow_clients' AND datname = current_database()",
      )
      await pool.query('UPDATE ccflow_clients SET disabled = true')
      await vi.waitFor(
        async () => expect((await store.findClient('billing'))?.disabled).toBe(true),
        {
          timeout: 5000,
        },
      )
    })
  })

  describe('database down (POST /token)', () => {
    let proxy: DatabaseProxy

    beforeEach(async () => {
      proxy = await databaseProxy(db.url)
    })
    afterEach(() => proxy.stop().catch(() => undefined))

    it('serves cached clients until their TTL ends, then answers 503 temporarily_unavailable, and recovers', async () => {
      const { secret } = await registry.create({ client_id: 'billing', ...base })
      const clients = open({
        pool: db.pool({ connectionString: proxy.url, connectionTimeoutMillis: 500 }),
        cacheTtlMs: 60_000,
        queryTimeoutMs: 1000,
      })
      await clients.ready()
      const events: IssuerEvent[] = []
      const app = express().use(
        tokenEndpoint({
          issuer: ISSUER,
          keys: [signingKey],
          clients,
          onEvent: (e) => events.push(e),
        }),
      )
      const token = () =>
        request(app)
          .post('/token')
          .set('Authorization', basic('billing', secret as string))
          .type('form')
          .send({ grant_type: 'client_credentials' })
      vi.useFakeTimers({ toFake: ['Date'] })
      expect((await token()).status).toBe(200)

      await proxy.stop()
      expect((await token()).status).toBe(200)
      const unknown = await request(app)
        .post('/token')
        .set('Authorization', basic('nobody', secret as string))
        .type('form')
        .send({ grant_type: 'client_credentials' })
      expect(unknown.status).toBe(503)
      expect(unknown.body).toEqual({
        error: 'temporarily_unavailable',
        error_description: expect.any(String) as string,
      })
      expect(unknown.headers['retry-after']).toBe('1')
      expect(events.at(-1)).toMatchObject({
        type: 'server_error',
        error: { code: 'temporarily_unavailable', dependency: 'client_store' },
      })

      vi.setSystemTime(Date.now() + 60_000)
      const expired = await token()
      expect(expired.status).toBe(503)
      expect(expired.body).toMatchObject({ error: 'temporarily_unavailable' })

      await proxy.start()
      await vi.waitFor(async () => expect((await token()).status).toBe(200), { timeout: 5000 })
    })
  })
})
