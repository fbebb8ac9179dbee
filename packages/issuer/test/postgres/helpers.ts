import { randomBytes } from 'node:crypto'
import { type AddressInfo, connect, createServer, type Socket } from 'node:net'
import pg from 'pg'

// The PostgreSQL the tests use: `DATABASE_URL`, default the local server.
const DATABASE_URL: string =
  process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

const IN_CI = process.env.CI === 'true' || process.env.CI === '1'

/** Why PostgreSQL cannot be used, or `undefined` when it answers `SELECT 1`. */
async function postgresUnavailableReason(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 2000 })
  try {
    await client.connect()
    await client.query('SELECT 1')
    return undefined
  } catch (err) {
    return `PostgreSQL at ${DATABASE_URL} is not reachable (${(err as Error).message})`
  } finally {
    await client.end().catch(() => undefined)
  }
}

/**
 * Whether the PostgreSQL suites should be skipped: only outside CI (under CI they run and fail
 * loudly), and the reason is printed so a skipped run is never mistaken for a passing one.
 */
export async function skipWithoutPostgres(): Promise<boolean> {
  const reason = await postgresUnavailableReason()
  if (reason === undefined || IN_CI) return false
  console.warn(
    `[ccflow tests] skipping PostgreSQL tests: ${reason}. Start PostgreSQL or set DATABASE_URL.`,
  )
  return true
}

/** A database of its own for one test file. */
export interface TestDatabase {
  /** Its connection string. */
  readonly url: string
  /** A new pool on it, ended by `drop()`. */
  pool(config?: pg.PoolConfig): pg.Pool
  /** Ends every pool and drops the database. */
  drop(): Promise<void>
}

/** Creates `ccflow_test_<random>` on the test server. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `ccflow_test_${randomBytes(6).toString('hex')}`
  await admin(`CREATE DATABASE ${name}`)
  const url = new URL(DATABASE_URL)
  url.pathname = `/${name}`
  const pools: pg.Pool[] = []
  return {
    url: url.href,
    pool(config = {}) {
      const pool = new pg.Pool({ connectionString: url.href, ...config })
      // An idle connection that the server drops must not crash the test process.
      pool.on('error', () => undefined)
      pools.push(pool)
      return pool
    },
    async drop() {
      await Promise.all(pools.map((pool) => pool.end().catch(() => undefined)))
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    },
  }
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

/** A TCP proxy in front of the test server, to cut the database off and bring it back. */
export interface DatabaseProxy {
  /** The connection string of the database through the proxy. */
  readonly url: string
  /** Closes the listening socket and every open connection: the database is "down". */
  stop(): Promise<void>
  /** Listens again on the same port: the database is back. */
  start(): Promise<void>
}

/** Starts a proxy to the database at `url` on a free port of 127.0.0.1. */
export async function databaseProxy(url: string): Promise<DatabaseProxy> {
  const target = new URL(url)
  const sockets = new Set<Socket>()
  const server = createServer((inbound) => {
    const outbound = connect(Number(target.port || 5432), target.hostname)
    for (const socket of [inbound, outbound]) {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
      socket.on('error', () => undefined)
    }
    inbound.pipe(outbound).pipe(inbound)
    inbound.on('close', () => outbound.destroy())
    outbound.on('close', () => inbound.destroy())
  })
  const listen = (port: number): Promise<number> =>
    new Promise((resolve) => {
      server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port))
    })
  const port = await listen(0)
  const proxied = new URL(url)
  proxied.hostname = '127.0.0.1'
  proxied.port = String(port)
  return {
    url: proxied.href,
    async stop() {
      const closed = new Promise((resolve) => server.close(resolve))
      for (const socket of sockets) socket.destroy()
      await closed
    },
    async start() {
      await listen(port)
    },
  }
}
