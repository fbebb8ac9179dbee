import type { PgPool, PgPoolClient } from './pg-types.js'

/**
 * The channel every registry change is announced on; the payload is the client id.
 *
 * @internal
 */
export const CLIENTS_CHANNEL = 'ccflow_clients'

const FIRST_RETRY_MS = 100
const MAX_RETRY_MS = 10_000

/**
 * What the store hears from its `LISTEN` connection.
 *
 * @internal
 */
export interface ListenerEvents {
  /** A client changed: drop it from the cache. */
  onChange(clientId: string): void
  /**
   * `LISTEN` is in force, for the first time or again after the connection was lost:
   * notifications sent meanwhile may have been missed, so the whole cache is dropped.
   */
  onSubscribed(): void
}

/**
 * A `LISTEN ccflow_clients` on a connection of its own, held for the store's lifetime and
 * re-established with exponential backoff (100 ms doubling to 10 s) whenever it fails.
 *
 * @internal
 */
export class ClientChangeListener {
  #pool: PgPool
  #events: ListenerEvents
  #client: PgPoolClient | undefined
  #timer: NodeJS.Timeout | undefined
  #delay = FIRST_RETRY_MS
  #closed = false
  #started = false
  #attempt: Promise<void> | undefined

  constructor(pool: PgPool, events: ListenerEvents) {
    this.#pool = pool
    this.#events = events
  }

  /** Whether `LISTEN` is in force right now. */
  get listening(): boolean {
    return this.#client !== undefined
  }

  /**
   * Resolves once `LISTEN` is in force: at once when it is, else with the attempt under way or
   * a new one (a waiting retry runs now). When the attempt fails, the listener keeps retrying
   * in the background until {@link ClientChangeListener.close}.
   */
  start(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('postgresClientStore: the store is closed'))
    if (this.#client !== undefined) return Promise.resolve()
    this.#started = true
    if (this.#attempt === undefined) {
      clearTimeout(this.#timer)
      this.#attempt = this.#connect().finally(() => {
        this.#attempt = undefined
      })
    }
    return this.#attempt
  }

  /** Starts listening unless it was started before (retries then run on their own). */
  ensureStarted(): void {
    if (this.#started || this.#closed) return
    this.start().catch(() => undefined)
  }

  /** Stops retrying and releases the connection. */
  close(): void {
    this.#closed = true
    clearTimeout(this.#timer)
    this.#drop(true)
  }

  async #connect(): Promise<void> {
    let client: PgPoolClient
    try {
      client = await this.#pool.connect()
    } catch (err) {
      this.#retry()
      throw err
    }
    if (this.#closed) {
      client.release(true)
      return
    }
    const lost = (err: Error): void => {
      if (this.#client !== client) return
      this.#drop(err)
      this.#retry()
    }
    client.on('error', lost)
    client.on('end', () => lost(new Error('the LISTEN connection ended')))
    client.on('notification', (message) => {
      if (message.channel === CLIENTS_CHANNEL && typeof message.payload === 'string') {
        this.#events.onChange(message.payload)
      }
    })
    try {
      await client.query(`LISTEN ${CLIENTS_CHANNEL}`)
    } catch (err) {
      client.release(true)
      this.#retry()
      throw err
    }
    this.#client = client
    this.#delay = FIRST_RETRY_MS
    this.#events.onSubscribed()
  }

  // Always destroyed, never returned to the pool: a pooled connection would keep the LISTEN.
  #drop(err: Error | true): void {
    const client = this.#client
    this.#client = undefined
    client?.release(err)
  }

  #retry(): void {
    if (this.#closed) return
    const delay = this.#delay
    this.#delay = Math.min(this.#delay * 2, MAX_RETRY_MS)
    this.#timer = setTimeout(() => {
      this.start().catch(() => undefined)
    }, delay)
    this.#timer.unref()
  }
}
