import type { Request, Response } from 'express'
import { describe, expect, it, vi } from 'vitest'
import {
  DEFAULT_CONTEXT,
  fail,
  getContext,
  rememberContext,
  setContext,
} from '../../src/http/context.js'
import { InvalidTokenError } from '../../src/errors.js'

describe('getContext', () => {
  it('returns the defaults until setContext ran on the request', () => {
    const req = {} as Request
    expect(getContext(req)).toBe(DEFAULT_CONTEXT)
    const context = { realm: 'orders', passErrors: true }
    setContext(req, context)
    expect(getContext(req)).toBe(context)
  })
  it('finds the settings of the guard that verified the AuthInfo on req.auth', () => {
    const auth = { scopes: [] }
    const context = { realm: 'billing', passErrors: false }
    rememberContext(auth, context)
    expect(getContext({ auth } as unknown as Request)).toBe(context)
    expect(getContext({ auth: { scopes: [] } } as unknown as Request)).toBe(DEFAULT_CONTEXT)
  })
})

describe('fail', () => {
  it('passes errors that are not guard errors to next', () => {
    const next = vi.fn()
    const error = new Error('boom')
    fail(error, DEFAULT_CONTEXT, {} as Response, next)
    expect(next).toHaveBeenCalledWith(error)
  })

  it('passes guard errors to next with passErrors', () => {
    const next = vi.fn()
    const error = new InvalidTokenError('malformed')
    fail(error, { realm: 'api', passErrors: true }, {} as Response, next)
    expect(next).toHaveBeenCalledWith(error)
  })
})
