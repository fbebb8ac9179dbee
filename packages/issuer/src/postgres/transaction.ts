import type { PgPool, PgPoolClient } from './pg-types.js'

/**
 * Runs `work` in one transaction on one connection: `COMMIT` when it resolves, `ROLLBACK` when
 * it throws (the error is rethrown). A connection whose `BEGIN` or `ROLLBACK` failed is
 * destroyed, not returned to the pool.
 *
 * @internal
 */
export async function inTransaction<T>(
  pool: PgPool,
  work: (client: PgPoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
  } catch (err) {
    client.release(asError(err))
    throw err
  }
  try {
    const result = await work(client)
    await client.query('COMMIT')
    client.release()
    return result
  } catch (err) {
    try {
      await client.query('ROLLBACK')
      client.release()
    } catch (rollbackError) {
      client.release(asError(rollbackError))
    }
    throw err
  }
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error('the connection failed')
}
