import { settleWithin } from '@ccflow/core'
import { LRUCache } from 'lru-cache'
import type { Client, ClientStore } from '../clients/client-store.js'
import { TemporarilyUnavailableError } from '../errors.js'
import { type ClientRow, clientFromRow, SELECT_CLIENT_SQL } from './client-rows.js'
import { ClientChangeListener } from './listener.js'
import { LATEST_SCHEMA_VERSION, schemaMismatchMessage, schemaVersion } from './migrations.js'
import { RegistryError } from './registry-error.js'
import { type PostgresClientStoreOptions, resolveStoreOptions } from './store-options.js'

/**
 * A {@link ClientStore} on PostgreSQL, with its lifecycle.
 */
export interface PostgresClientStore extends ClientStore {
  /**
   * Resolves when the database holds exactly the schema version this package knows and, with
   * `listen`, `LISTEN` is in force. Await it before the server takes requests.
   *
   * @throws {RegistryError} `schema_mismatch`, saying to run `ccflow db migrate` (or to upgrade
   *   the package, for a newer schema).
   * @throws {Error} The driver's error when the database cannot be reached (the `LISTEN`
   *   connection keeps retrying in the background until {@link PostgresClientStore.close}).
   */
  ready(): Promise<void>
  /** Releases the `LISTEN` connection and stops its retries. The pool stays yours to end. */
  close(): Promise<void>
}

const LOOKUP_SQL = `${SELECT_CLIENT_SQL}
WHERE c.client_id = $1
GROUP BY c.client_id`

// Distinct ids looked up at once. A database that hangs would otherwise let every new id add
// a query to the pool's queue; past this bound a miss answers 503 at once.
const MAX_PENDING_LOOKUPS = 1000

interface CacheEntry {
  client: Client | undefined
  expiresAt: number
}

/**
 * A client store that reads clients registered with {@link postgresClientRegistry} (or
 * `ccflow client …`) from PostgreSQL.
 *
 * A lookup costs at most one round trip (one statement joining the unrevoked secrets), and its
 * answer, found or not, is kept in a bounded LRU cache for `cacheTtlMs`. Concurrent lookups of
 * one id share the query. With `listen` (the default) a dedicated connection `LISTEN`s on
 * `ccflow_clients` and every registry change evicts its client at once; when that connection is
 * lost it is re-established with backoff, and the whole cache is dropped once it is back, since
 * notifications may have been missed in between.
 *
 * When the database is down, cached clients keep working until their entry expires; after that
 * a lookup rejects with {@link TemporarilyUnavailableError} (`dependency: 'client_store'`), so
 * the endpoint answers 503 `temporarily_unavailable` with `Retry-After` (never
 * `invalid_client`). The store recovers by itself when the database is back.
 *
 * @example
 * ```ts
 * import pg from 'pg'
 * import { tokenEndpoint } from '@ccflow/issuer'
 * import { postgresClientStore } from '@ccflow/issuer/postgres'
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL })
 * const clients = postgresClientStore({ pool })
 * await clients.ready() // refuses a schema other than the one this package knows
 * app.use(tokenEndpoint({ issuer, keys, clients }))
 * ```
 * @throws {TypeError} For a missing pool, an unknown option or a value out of range.
 * @see RFC 7591 §2 (client metadata)
 */
export function postgresClientStore(options: PostgresClientStoreOptions): PostgresClientStore {
  const { pool, cacheTtlMs, maxCachedClients, listen, queryTimeoutMs } =
    resolveStoreOptions(options)
  const cache = new LRUCache<string, CacheEntry>({ max: maxCachedClients })
  const pending = new Map<string, Promise<Client | undefined>>()
  // Bumped by every eviction: a lookup that started before one must not cache what it read.
  let generation = 0
  let closed = false
  const listener = listen
    ? new ClientChangeListener(pool, {
        onChange(clientId) {
          generation++
          cache.delete(clientId)
          pending.delete(clientId)
        },
        onSubscribed() {
          generation++
          cache.clear()
          pending.clear()
        },
      })
    : undefined

  const lookUp = async (clientId: string): Promise<Client | undefined> => {
    const started = generation
    let rows: unknown[]
    try {
      ;({ rows } = await settleWithin(
        pool.query(LOOKUP_SQL, [clientId]),
        queryTimeoutMs,
        () => new Error(`postgresClientStore: no answer within ${queryTimeoutMs} ms`),
      ))
    } catch (err) {
      throw new TemporarilyUnavailableError('client_store', { cause: err })
    }
    const row = rows[0] as ClientRow | undefined
    const client = row === undefined ? undefined : clientFromRow(row)
    if (started === generation && cacheTtlMs > 0 && !closed) {
      cache.set(clientId, { client, expiresAt: Date.now() + cacheTtlMs })
    }
    return client
  }

  return {
    findClient(clientId) {
      listener?.ensureStarted()
      const entry = cache.get(clientId)
      if (entry !== undefined) {
        if (entry.expiresAt > Date.now()) return Promise.resolve(entry.client)
        cache.delete(clientId)
      }
      let lookup = pending.get(clientId)
      if (lookup === undefined) {
        if (pending.size >= MAX_PENDING_LOOKUPS) {
          return Promise.reject(
            new TemporarilyUnavailableError('client_store', {
              cause: new Error(
                `postgresClientStore: ${MAX_PENDING_LOOKUPS} lookups are waiting for the database`,
              ),
            }),
          )
        }
        lookup = lookUp(clientId).finally(() => {
          if (pending.get(clientId) === lookup) pending.delete(clientId)
        })
        pending.set(clientId, lookup)
      }
      return lookup
    },
    async ready() {
      const { current } = await schemaVersion(pool)
      if (current !== LATEST_SCHEMA_VERSION) {
        throw new RegistryError(
          'schema_mismatch',
          `postgresClientStore: ${schemaMismatchMessage(current)}`,
        )
      }
      await listener?.start()
    },
    close() {
      closed = true
      listener?.close()
      cache.clear()
      return Promise.resolve()
    },
  }
}
