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

// The settings of the guard that verified each AuthInfo. Every requireToken has its own verifier
// and cache, so an AuthInfo belongs to exactly one guard; remembering it once per verified token
// keeps the per-request path free of a store on `req`.
const contextOfAuth = new WeakMap<object, GuardContext>()

/** Leaves the guard's error settings on a request that passes without a token. */
export function setContext(req: Request, context: GuardContext): void {
  ;(req as unknown as Record<symbol, GuardContext>)[CONTEXT] = context
}

/** Remembers which guard's settings apply to requests carrying this verified token's AuthInfo. */
export function rememberContext(auth: object, context: GuardContext): void {
  contextOfAuth.set(auth, context)
}

/**
 * The error settings of the `requireToken` that ran on this request (the one whose AuthInfo is
 * on `req.auth`, or the one that let it through without a token), or the defaults.
 */
export function getContext(req: Request): GuardContext {
  const auth: unknown = req.auth
  const byAuth = typeof auth === 'object' && auth !== null ? contextOfAuth.get(auth) : undefined
  return (
    byAuth ??
    (req as unknown as Record<symbol, GuardContext | undefined>)[CONTEXT] ??
    DEFAULT_CONTEXT
  )
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
