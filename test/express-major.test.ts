import express from 'express'
import { describe, expect, it } from 'vitest'

describe('the cross-package suite', () => {
  it('runs on the Express major its project names', () => {
    // express.query was removed in Express 5, so it tells the two majors apart.
    const major = 'query' in express ? '4' : '5'
    expect(major).toBe(process.env.CCFLOW_EXPRESS_MAJOR)
  })
})
