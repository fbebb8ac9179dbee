import {
  checkBoolean,
  checkInteger,
  checkKnownKeys,
  checkObject,
  optionError,
  type OptionTable,
} from '@ccflow/core'
import type { PgPool } from './pg-types.js'

/**
 * Options of {@link postgresClientStore}.
 */
export interface PostgresClientStoreOptions {
  /**
   * A node-postgres `Pool` (yours: the store never ends it). With `listen`, the store keeps one
   * of its connections for `LISTEN`, so give the pool `max` ≥ 2. Required.
   */
  pool: PgPool
  /**
   * How long a looked-up client (or the absence of one) is served from memory, in milliseconds.
   * It bounds how long a change can go unseen when a notification is missed, and how long
   * cached clients keep getting tokens while the database is down. `0` turns the cache off.
   * @default 30000
   */
  cacheTtlMs?: number | undefined
  /** Most clients (and unknown ids) kept in the LRU cache. @default 10000 */
  maxCachedClients?: number | undefined
  /**
   * `LISTEN ccflow_clients` on a connection of its own and drop a client from the cache as soon
   * as the registry announces a change to it (`NOTIFY`), so a disabled client is refused within
   * moments on every instance. Without it, changes take effect when the cache entry expires.
   * @default true
   */
  listen?: boolean | undefined
  /**
   * Longest wait for one lookup, in milliseconds; past it the request answers 503
   * `temporarily_unavailable`. Keep it below the endpoint's `hookTimeoutMs`.
   * @default 2000
   */
  queryTimeoutMs?: number | undefined
}

/**
 * Resolved {@link PostgresClientStoreOptions}.
 *
 * @internal
 */
export interface StoreSettings {
  readonly pool: PgPool
  readonly cacheTtlMs: number
  readonly maxCachedClients: number
  readonly listen: boolean
  readonly queryTimeoutMs: number
}

const WHERE = 'postgresClientStore'
const STORE_OPTIONS = {
  pool: true,
  cacheTtlMs: true,
  maxCachedClients: true,
  listen: true,
  queryTimeoutMs: true,
} satisfies OptionTable<PostgresClientStoreOptions>

/**
 * Checks the options of `postgresClientStore` once, at creation.
 *
 * @internal
 * @throws {TypeError} `postgresClientStore: option "<name>" …` for a missing pool, an unknown
 *   option (with the nearest known name) or a value out of range.
 */
export function resolveStoreOptions(options: unknown): StoreSettings {
  const given = checkObject(options, WHERE)
  checkKnownKeys(given, STORE_OPTIONS, WHERE)
  return {
    pool: checkPool(given.pool, WHERE),
    cacheTtlMs: checkInteger(
      given.cacheTtlMs,
      { where: WHERE, path: 'cacheTtlMs' },
      { min: 0, max: 86_400_000 },
      30_000,
    ),
    maxCachedClients: checkInteger(
      given.maxCachedClients,
      { where: WHERE, path: 'maxCachedClients' },
      { min: 1, max: 1_000_000 },
      10_000,
    ),
    listen: checkBoolean(given.listen, { where: WHERE, path: 'listen' }, true),
    queryTimeoutMs: checkInteger(
      given.queryTimeoutMs,
      { where: WHERE, path: 'queryTimeoutMs' },
      { min: 1, max: 60_000 },
      2000,
    ),
  }
}

/**
 * Checks a `pool` option: an object with `query` and `connect` methods.
 *
 * @internal
 */
export function checkPool(value: unknown, where: string): PgPool {
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof (value as { query?: unknown }).query !== 'function' ||
    typeof (value as { connect?: unknown }).connect !== 'function'
  ) {
    throw optionError(
      where,
      'pool',
      'is required and must be a node-postgres Pool (new pg.Pool(…))',
    )
  }
  return value as PgPool
}
