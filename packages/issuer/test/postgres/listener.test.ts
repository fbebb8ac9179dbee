import { EventEmitter } from 'node:events'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { TemporarilyUnavailableError } from '../../src/index.js'
import type { PgPoolClient, PgQueryResult } from '../../src/postgres.js'
import { postgresClientStore } from '../../src/postgres.js'
import { ClientChangeListener } from '../../src/postgres/listener.js'

// These tests drive the store and its LISTEN connection through a scripted pool, so that
// failures PostgreSQL cannot be made to produce on cue (a LISTEN that fails, a notification
// racing a lookup) are covered without a server.

const HASH = `$hmac-sha256$${'A'.repeat(43)}`
const row = (clientId: string, disabled = false): Record<string, unknown> => ({
  client_id: clientId,
  metadata: { scope: 'a', audiences: ['https://api.example.com'] },
  disabled,
  secrets: [{ id: 'k1', hash: HASH, expires_at: null }],
})

class FakeConnection extends EventEmitter {
  released: (Error | boolean | undefined)[] = []
  listenError: Error | undefined
  query(text: string): Promise<PgQueryResult> {
    if (text.startsWith('LISTEN') && this.listenError) return Promise.reject(this.listenError)
    return Promise.resolve({ rows: [], rowCount: null })
  }
  release(err?: Error | boolean): void {
    this.released.push(err)
  }
  notify(payload: string | undefined, channel = 'ccflow_clients'): void {
    this.emit('notification', { channel, payload })
  }
}

class FakePool {
  connections: FakeConnection[] = []
  connectFailures = 0
  rows = new Map<string, Record<string, unknown>>()
  lookups = 0
  hold: Promise<void> | undefined
  failQuery: Error | undefined

  connect(): Promise<PgPoolClient> {
    if (this.connectFailures > 0) {
      this.connectFailures--
      return Promise.reject(new Error('connect ECONNREFUSED'))
    }
    const connection = new FakeConnection()
    this.connections.push(connection)
    return Promise.resolve(connection)
  }

  async query(text: string, values?: unknown[]): Promise<PgQueryResult> {
    // The schema check of ready(): version 1 is in place.
    if (text.includes('to_regclass')) return { rows: [{ present: true }], rowCount: 1 }
    if (text.includes('max(version)')) return { rows: [{ version: 1 }], rowCount: 1 }
    this.lookups++
    if (this.failQuery) throw this.failQuery
    const found = this.rows.get(String(values?.[0]))
    if (this.hold) await this.hold
    return { rows: found === undefined ? [] : [found], rowCount: found === undefined ? 0 : 1 }
  }
}

afterEach(() => {
  vi.useRealTimers()
})

describe('ClientChangeListener', () => {
  it('retries a failed connection with a growing delay and reports each subscription', async () => {
    vi.useFakeTimers()
    const pool = new FakePool()
    pool.connectFailures = 2
    const events = { onChange: vi.fn(), onSubscribed: vi.fn() }
    const listener = new ClientChangeListener(pool, events)
    await expect(listener.start()).rejects.toThrow('ECONNREFUSED')
    expect(listener.listening).toBe(false)
    await vi.advanceTimersByTimeAsync(100) // first retry, fails again
    expect(pool.connections).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(199)
    expect(pool.connections).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(1) // second retry after 200 ms
    expect(listener.listening).toBe(true)
    expect(events.onSubscribed).toHaveBeenCalledTimes(1)
    listener.close()
  })

  it('reconnects after the connection fails, destroying the broken one', async () => {
    vi.useFakeTimers()
    const pool = new FakePool()
    const events = { onChange: vi.fn(), onSubscribed: vi.fn() }
    const listener = new ClientChangeListener(pool, events)
    await listener.start()
    const first = pool.connections[0] as FakeConnection
    const failure = new Error('terminating connection due to administrator command')
    first.emit('error', failure)
    expect(first.released).toEqual([failure])
    expect(listener.listening).toBe(false)
    first.emit('error', new Error('a late second error'))
    expect(first.released).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(100)
    expect(listener.listening).toBe(true)
    expect(events.onSubscribed).toHaveBeenCalledTimes(2)
    listener.close()
    expect(pool.connections[1]?.released).toEqual([true])
  })

  it('reconnects after the connection ends without an error', async () => {
    vi.useFakeTimers()
    const pool = new FakePool()
    const listener = new ClientChangeListener(pool, { onChange: vi.fn(), onSubscribed: vi.fn() })
    await listener.start()
    pool.connections[0]?.emit('end')
    expect(listener.listening).toBe(false)
    expect(pool.connections[0]?.released).toEqual([new Error('the LISTEN connection ended')])
    await vi.advanceTimersByTimeAsync(100)
    expect(listener.listening).toBe(true)
    listener.close()
  })

  it('retries when LISTEN itself fails, destroying that connection', async () => {
    vi.useFakeTimers()
    const pool = new FakePool()
    const original = pool.connect.bind(pool)
    let calls = 0
    pool.connect = async () => {
      const connection = (await original()) as unknown as FakeConnection
      if (calls++ === 0) connection.listenError = new Error('permission denied')
      return connection
    }
    const listener = new ClientChangeListener(pool, { onChange: vi.fn(), onSubscribed: vi.fn() })
    await expect(listener.start()).rejects.toThrow('permission denied')
    expect(pool.connections[0]?.released).toEqual([true])
    await listener.start() // runs the waiting retry now
    expect(listener.listening).toBe(true)
    listener.close()
  })

  it('shares the attempt under way, and stops retrying once closed', async () => {
    vi.useFakeTimers()
    const pool = new FakePool()
    pool.connectFailures = 1
    const listener = new ClientChangeListener(pool, { onChange: vi.fn(), onSubscribed: vi.fn() })
    listener.close() // nothing to release yet
    const again = new ClientChangeListener(pool, { onChange: vi.fn(), onSubscribed: vi.fn() })
    const first = again.start()
    expect(again.start()).toBe(first)
    again.close()
    await expect(first).rejects.toThrow('ECONNREFUSED')
    await vi.advanceTimersByTimeAsync(10_000)
    expect(pool.connections).toHaveLength(0)
  })

  it('starts once from ensureStarted, swallowing a failure that the retries take over', async () => {
    vi.useFakeTimers()
    const pool = new FakePool()
    pool.connectFailures = 1
    const listener = new ClientChangeListener(pool, { onChange: vi.fn(), onSubscribed: vi.fn() })
    listener.ensureStarted()
    listener.ensureStarted()
    await vi.advanceTimersByTimeAsync(100)
    expect(listener.listening).toBe(true)
    expect(pool.connections).toHaveLength(1)
    listener.close()
  })

  it('passes on changes of its channel only', async () => {
    const pool = new FakePool()
    const events = { onChange: vi.fn(), onSubscribed: vi.fn() }
    const listener = new ClientChangeListener(pool, events)
    await listener.start()
    const connection = pool.connections[0] as FakeConnection
    connection.notify('billing')
    connection.notify('billing', 'other_channel')
    connection.notify(undefined)
    expect(events.onChange.mock.calls).toEqual([['billing']])
    listener.close()
  })

  it('gives back a connection that arrives after close, and refuses to start once closed', async () => {
    const pool = new FakePool()
    const listener = new ClientChangeListener(pool, { onChange: vi.fn(), onSubscribed: vi.fn() })
    const starting = listener.start()
    listener.close()
    await starting
    expect(listener.listening).toBe(false)
    expect(pool.connections[0]?.released).toEqual([true])
    await expect(listener.start()).rejects.toThrow('postgresClientStore: the store is closed')
    listener.ensureStarted()
    expect(pool.connections).toHaveLength(1)
  })
})

describe('postgresClientStore with a scripted pool', () => {
  it('rejects with TemporarilyUnavailableError (client_store) when the query fails', async () => {
    const pool = new FakePool()
    pool.failQuery = new Error('Connection terminated unexpectedly')
    const store = postgresClientStore({ pool, listen: false })
    const error = await store.findClient('billing').catch((err: unknown) => err)
    expect(error).toBeInstanceOf(TemporarilyUnavailableError)
    expect(error).toMatchObject({ dependency: 'client_store', cause: pool.failQuery })
  })

  it('rejects with TemporarilyUnavailableError when the query does not answer in time', async () => {
    const pool = new FakePool()
    pool.hold = new Promise(() => undefined)
    const store = postgresClientStore({ pool, listen: false, queryTimeoutMs: 5 })
    const error = await store.findClient('billing').catch((err: unknown) => err)
    expect(error).toMatchObject({
      dependency: 'client_store',
      cause: { message: 'postgresClientStore: no answer within 5 ms' },
    })
  })

  it('answers 503 at once while 1000 lookups wait for the database', async () => {
    const pool = new FakePool()
    pool.hold = new Promise(() => undefined)
    const store = postgresClientStore({ pool, listen: false, queryTimeoutMs: 60_000 })
    for (let i = 0; i < 1000; i++) void store.findClient(`id-${i}`).catch(() => undefined)
    const error = await store.findClient('one-more').catch((err: unknown) => err)
    expect(error).toMatchObject({
      dependency: 'client_store',
      cause: { message: 'postgresClientStore: 1000 lookups are waiting for the database' },
    })
    expect(pool.lookups).toBe(1000)
  })

  it('does not cache what a lookup read when a change was announced meanwhile', async () => {
    const pool = new FakePool()
    pool.rows.set('billing', row('billing'))
    const store = postgresClientStore({ pool })
    await store.ready()
    let open!: () => void
    pool.hold = new Promise((resolve) => (open = resolve))
    const reading = store.findClient('billing')
    pool.rows.set('billing', row('billing', true))
    pool.connections[0]?.notify('billing')
    // A lookup after the notification does not join the stale one.
    const fresh = store.findClient('billing')
    open()
    pool.hold = undefined
    expect((await reading)?.disabled).toBeUndefined()
    expect((await fresh)?.disabled).toBe(true)
    expect((await store.findClient('billing'))?.disabled).toBe(true)
    expect(pool.lookups).toBe(2) // two lookups, then a hit
    await store.close()
  })

  it('drops every cached client when LISTEN comes back after a failure', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const pool = new FakePool()
    pool.rows.set('billing', row('billing'))
    const store = postgresClientStore({ pool })
    await store.ready()
    await store.findClient('billing')
    const lookups = pool.lookups
    await store.findClient('billing')
    expect(pool.lookups).toBe(lookups)
    pool.connections[0]?.emit('error', new Error('gone'))
    await store.findClient('billing')
    expect(pool.lookups).toBe(lookups) // still cached while LISTEN is down
    await vi.advanceTimersByTimeAsync(100)
    await store.findClient('billing')
    expect(pool.lookups).toBe(lookups + 1)
    await store.close()
  })

  it('stops caching once closed', async () => {
    const pool = new FakePool()
    pool.rows.set('billing', row('billing'))
    const store = postgresClientStore({ pool, listen: false })
    await store.close()
    await store.findClient('billing')
    await store.findClient('billing')
    expect(pool.lookups).toBe(2)
  })
})
