import { describe, expect, it, vi } from 'vitest'
import type { PgPool, PgPoolClient, PgQueryResult } from '../../src/postgres.js'
import { inTransaction } from '../../src/postgres/transaction.js'

const OK: PgQueryResult = { rows: [], rowCount: null }

function scriptedPool(failing: Record<string, unknown>): {
  pool: PgPool
  statements: string[]
  release: ReturnType<typeof vi.fn>
} {
  const statements: string[] = []
  const release = vi.fn()
  const client = {
    query(text: string) {
      statements.push(text)
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a driver may reject with anything
      return text in failing ? Promise.reject(failing[text]) : Promise.resolve(OK)
    },
    release,
    on: () => undefined,
  } as unknown as PgPoolClient
  return {
    pool: { query: () => Promise.resolve(OK), connect: () => Promise.resolve(client) },
    statements,
    release,
  }
}

describe('inTransaction', () => {
  it('commits and gives the connection back when the work resolves', async () => {
    const { pool, statements, release } = scriptedPool({})
    await expect(inTransaction(pool, async (db) => (await db.query('SELECT 1'), 42))).resolves.toBe(
      42,
    )
    expect(statements).toEqual(['BEGIN', 'SELECT 1', 'COMMIT'])
    expect(release.mock.calls).toEqual([[]])
  })

  it('rolls back, gives the connection back and rethrows when the work throws', async () => {
    const { pool, statements, release } = scriptedPool({})
    const failure = new Error('refused')
    await expect(inTransaction(pool, () => Promise.reject(failure))).rejects.toBe(failure)
    expect(statements).toEqual(['BEGIN', 'ROLLBACK'])
    expect(release.mock.calls).toEqual([[]])
  })

  it('destroys the connection when BEGIN fails', async () => {
    const failure = new Error('Connection terminated')
    const { pool, release } = scriptedPool({ BEGIN: failure })
    await expect(inTransaction(pool, () => Promise.resolve(1))).rejects.toBe(failure)
    expect(release.mock.calls).toEqual([[failure]])
  })

  it('destroys the connection when ROLLBACK fails, and rethrows the first error', async () => {
    const { pool, release } = scriptedPool({ COMMIT: 'not an Error', ROLLBACK: 'neither' })
    await expect(inTransaction(pool, () => Promise.resolve(1))).rejects.toBe('not an Error')
    expect(release.mock.calls).toEqual([[new Error('the connection failed')]])
  })
})
