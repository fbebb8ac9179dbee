import type { Request, Response, NextFunction } from 'express'
import { isBearerError, sendBearerError } from '../errors.js'

/** How a guard reports errors; requireToken leaves it on the request for the scope guards. */
export interface GuardContext {
  readonly realm: string
  readonly passErrors: boolean
}

const CONTEXT = Symbol.for('@ccflow/guard.context')

/** The defaults the scope guards use when `requireToken` did not run first. */
export const DEFAULT_CONTEXT: GuardContext = { realm: 'api', passErrors: false }

/** Leaves the guard's error settings on the request for `requireScopes`. */
export function setContext(req: Request, context: GuardContext): void {
  ;(req as unknown as Record<symbol, GuardContext>)[CONTEXT] = context
}

/** The error settings of the `requireToken` that ran on this request, or the defaults. */
export function getContext(req: Request): GuardContext {
  return (req as unknown as Record<symbol, GuardContext | undefined>)[CONTEXT] ?? DEFAULT_CONTEXT
}

/**
 * Reports an error: a guard error is answered (or passed on with `passErrors`); anything else is
 * unexpected and goes to the app's error handler.
 */
export function fail(
  error: unknown,
  context: GuardContext,
  res: Response,
  next: NextFunction,
): void {
  if (!isBearerError(error) || context.passErrors) {
    next(error)
    return
  }
  sendBearerError(res, error)
}
