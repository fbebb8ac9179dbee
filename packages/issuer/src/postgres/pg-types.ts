/**
 * The result of one query, as node-postgres returns it.
 */
export interface PgQueryResult {
  /** The rows, one object per row keyed by column name. */
  rows: unknown[]
  /** Rows inserted, updated or deleted (`null` for other commands). */
  rowCount: number | null
}

/** A `NOTIFY` as node-postgres delivers it on a client's `'notification'` event. */
export interface PgNotification {
  /** The channel, `ccflow_clients` here. */
  channel: string
  /** The payload: the client id that changed. */
  payload?: string | undefined
}

/**
 * A connection checked out of a {@link PgPool} (node-postgres `PoolClient`), typed by the few
 * members ccflow uses so that `pg` is never loaded by this package.
 */
export interface PgPoolClient {
  /** Runs one parameterised statement. */
  query(text: string, values?: unknown[]): Promise<PgQueryResult>
  /** Gives the connection back; with an error, the pool destroys it instead. */
  release(err?: Error | boolean): void
  /** `'notification'`: a `NOTIFY` on a channel this connection `LISTEN`s to. */
  on(event: 'notification', listener: (message: PgNotification) => void): unknown
  /** `'error'`: the connection failed (the server went away, the backend was terminated). */
  on(event: 'error', listener: (err: Error) => void): unknown
  /** `'end'`: the connection closed. */
  on(event: 'end', listener: () => void): unknown
}

/**
 * A node-postgres `Pool` (or anything with its `query` and `connect`). The pool belongs to the
 * caller, who configures it (`connectionTimeoutMillis`, `max`, TLS) and ends it.
 *
 * @example
 * ```ts
 * import pg from 'pg'
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL })
 * ```
 */
export interface PgPool {
  /** Runs one parameterised statement on any free connection. */
  query(text: string, values?: unknown[]): Promise<PgQueryResult>
  /** Checks a connection out, for a transaction or a `LISTEN`. */
  connect(): Promise<PgPoolClient>
}
