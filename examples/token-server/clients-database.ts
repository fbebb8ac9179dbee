/**
 * The token server's clients in PostgreSQL, when `DATABASE_URL` is set: the issuer's
 * `postgresClientStore` on a node-postgres pool, managed with `ccflow client …` (see
 * examples/README.md, "Clients in PostgreSQL").
 */
import pg from 'pg'
import { type PostgresClientStore, postgresClientStore } from '@ccflow/issuer/postgres'
import { ConfigError, type Env, optional } from '../shared/env.js'

/** The client store on the database, and what the server does with it at start and stop. */
export interface ClientDatabase {
  clients: PostgresClientStore
  /**
   * Resolves once the schema is the version this ccflow knows and change notifications are
   * listened to; otherwise rejects with a ConfigError naming DATABASE_URL (printed without its
   * password) and saying what to do.
   */
  ready(): Promise<void>
  /** Whether the database answers `SELECT 1` within `timeoutMs` (for `GET /ready`). */
  ping(timeoutMs: number): Promise<boolean>
  /** Where a lost connection is reported (once per outage); `console.warn` until set. */
  onConnectionLost(report: (error: Error) => void): void
  /** Stops listening and closes the pool. */
  close(): Promise<void>
}

/** `DATABASE_URL`, if set: a `postgres://` or `postgresql://` URL. */
export function databaseUrl(vars: Env): string | undefined {
  const value = optional(vars, 'DATABASE_URL')
  if (value === undefined) return undefined
  if (printable(value) === undefined) {
    // The value is not echoed: it may hold a password.
    throw new ConfigError(
      'DATABASE_URL must be a postgres:// or postgresql:// URL (postgres://user:password@host:5432/db)',
    )
  }
  return value
}

/**
 * A pool with bounded waits and the store on it. Nothing connects until `ready()`; a database
 * that goes away later is reconnected to by the pool and the store (cached clients keep working
 * meanwhile, others get 503 temporarily_unavailable).
 */
export function openClientDatabase(url: string, program: string): ClientDatabase {
  const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 2000 })
  // Required: an idle connection that the server drops emits 'error' on the pool, and without a
  // listener the process dies. One line per outage.
  let down = false
  let reportLost = (err: Error): void => {
    console.warn(`${program}: database connection lost (${err.message})`)
  }
  pool.on('error', (err) => {
    if (!down) reportLost(err)
    down = true
  })
  pool.on('connect', () => {
    down = false
  })
  const clients = postgresClientStore({ pool })
  return {
    clients,
    async ready() {
      try {
        await clients.ready()
      } catch (err) {
        const { message, code } = err as { message?: unknown; code?: unknown }
        const why = typeof message === 'string' && message !== '' ? message : String(code)
        throw new ConfigError(`DATABASE_URL ${printable(url) ?? ''}: ${why}`)
      }
    },
    async ping(timeoutMs) {
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs)
      })
      const answer = pool.query('SELECT 1').then(
        () => true,
        () => false,
      )
      try {
        return await Promise.race([answer, late])
      } finally {
        clearTimeout(timer)
      }
    },
    onConnectionLost(report) {
      reportLost = report
    },
    async close() {
      await clients.close()
      await pool.end()
    },
  }
}

/** The URL without password or query, for messages; `undefined` when it is not a postgres URL. */
function printable(url: string): string | undefined {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return undefined
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') return undefined
  const user = parsed.username === '' ? '' : `${parsed.username}@`
  return `${parsed.protocol}//${user}${parsed.host}${parsed.pathname}`
}
