import { describe, expect, it } from 'vitest'
import { CliFailure } from '../src/cli-failure.js'
import {
  databaseFailure,
  givenDatabaseUrl,
  openPool,
  printableDatabaseUrl,
} from '../src/database.js'

describe('givenDatabaseUrl', () => {
  it('prefers --database-url to DATABASE_URL', () => {
    expect(givenDatabaseUrl('postgres://a/b', { DATABASE_URL: 'postgres://c/d' })).toEqual({
      url: 'postgres://a/b',
      from: '--database-url',
    })
    expect(givenDatabaseUrl(undefined, { DATABASE_URL: 'postgres://c/d' })).toEqual({
      url: 'postgres://c/d',
      from: 'DATABASE_URL',
    })
  })

  it('answers undefined when neither is set, or DATABASE_URL is empty', () => {
    expect(givenDatabaseUrl(undefined, {})).toBeUndefined()
    expect(givenDatabaseUrl(undefined, { DATABASE_URL: '' })).toBeUndefined()
  })
})

describe('printableDatabaseUrl', () => {
  it('drops the password and the query', () => {
    expect(
      printableDatabaseUrl('postgres://ops:s3cret@db.internal:5432/ccflow?sslmode=require'),
    ).toBe('postgres://ops@db.internal:5432/ccflow')
    expect(printableDatabaseUrl('postgresql://db.internal/ccflow')).toBe(
      'postgresql://db.internal/ccflow',
    )
  })

  it.each(['mysql://db/x', 'not a url', 'db.internal:5432'])('answers undefined for %j', (url) => {
    expect(printableDatabaseUrl(url)).toBeUndefined()
  })
})

describe('databaseFailure', () => {
  it('names the database, the first line of the message and the code', () => {
    const err = Object.assign(new Error('database "x" does not exist\nDETAIL: more'), {
      code: '3D000',
    })
    const failure = databaseFailure(err, 'postgres://db/x')
    expect(failure).toBeInstanceOf(CliFailure)
    expect(failure.message).toBe('database postgres://db/x: database "x" does not exist (3D000)')
  })

  it('falls back to "connection failed" for an error without a message (an AggregateError)', () => {
    const err = Object.assign(new AggregateError([], ''), { code: 'ECONNREFUSED' })
    expect(databaseFailure(err, 'postgres://db/x').message).toBe(
      'database postgres://db/x: connection failed (ECONNREFUSED)',
    )
    expect(databaseFailure(undefined, 'postgres://db/x').message).toBe(
      'database postgres://db/x: connection failed',
    )
  })
})

describe('openPool', () => {
  it('keeps the error of an idle connection from crashing the process', async () => {
    const pool = await openPool('postgres://127.0.0.1:1/none')
    expect(() => pool.emit('error', new Error('terminating connection'))).not.toThrow()
    await pool.end()
  })
})
