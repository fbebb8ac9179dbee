import type { Pool } from 'pg'
import { CliFailure } from './cli-failure.js'

/** How long a command waits for a connection before it gives up. */
const CONNECT_TIMEOUT_MS = 5000
/** How long one statement may run on the server; a command never waits longer for an answer. */
const STATEMENT_TIMEOUT_MS = 15_000

/** Where the database is: `--database-url`, else `DATABASE_URL`; `undefined` when neither. */
export function givenDatabaseUrl(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): { url: string; from: string } | undefined {
  if (flag !== undefined) return { url: flag, from: '--database-url' }
  const url = env.DATABASE_URL
  return url === undefined || url === '' ? undefined : { url, from: 'DATABASE_URL' }
}

/**
 * Checks a PostgreSQL connection URL (`postgres://user:password@host:5432/db`) and returns the
 * form that is safe to print: no password, no query.
 *
 * @returns `undefined` when the text is not such a URL.
 */
export function printableDatabaseUrl(url: string): string | undefined {
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

/**
 * Opens a small pool on the database (node-postgres, loaded only by the database commands) with
 * bounded waits: a connection within 5 s, each statement within 15 s.
 */
export async function openPool(url: string): Promise<Pool> {
  const { Pool: PgPool } = await import('pg')
  const pool = new PgPool({
    connectionString: url,
    max: 2,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    query_timeout: STATEMENT_TIMEOUT_MS + 1000,
    application_name: 'ccflow-cli',
  })
  // An idle connection that the server drops emits 'error' on the pool; the command in flight
  // (if any) fails on its own query, so the event is only kept from crashing the process.
  pool.on('error', () => undefined)
  return pool
}

/**
 * The one-line failure for an error of node-postgres or the network: the printable URL, the
 * server's message (which names a database or user, never a password) and its code.
 */
export function databaseFailure(err: unknown, printable: string): CliFailure {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown }
  const text = typeof message === 'string' && message !== '' ? message : 'connection failed'
  const suffix = typeof code === 'string' && code !== '' ? ` (${code})` : ''
  // The first line: a server message may go on with DETAIL and HINT lines.
  return new CliFailure(`database ${printable}: ${text.replace(/\n[\s\S]*$/, '')}${suffix}`)
}
