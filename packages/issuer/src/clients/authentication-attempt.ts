import type { Request } from 'express'
import type { Client } from './client-store.js'

/** Where passport's `assignProperty` puts the authenticated client on the attempt. */
export const CLIENT_PROPERTY = 'ccflowClient'
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({})

/**
 * What our strategies get from passport as their `req`: one object per authentication attempt,
 * holding the real request. passport 0.7's authenticate middleware decorates the object it is
 * given (`login`, `logout`, `isAuthenticated`, `_sessionManager`, …) and puts the authenticated
 * client on it (`assignProperty`); handing it this object instead of the request means our
 * private instance never touches the app's request, its session manager or its login helpers,
 * with nothing to save and put back (deleting those fields again on every request also turned
 * each request object into a slow dictionary-mode object).
 *
 * passport-http's `BasicStrategy` reads `req.headers.authorization`, so the attempt carries the
 * checked header there (the request's own headers object when it is already in the form
 * passport-http parses).
 *
 * @internal
 */
export class AuthenticationAttempt {
  /** Set by passport on success (`assignProperty`). */
  ccflowClient: Client | undefined = undefined
  /** The request being authenticated. */
  readonly request: Request
  /** What passport-http reads: `authorization` is `Basic <token>` with one space. */
  readonly headers: Readonly<{ authorization?: string | undefined }>

  constructor(request: Request, authorization: string | undefined) {
    this.request = request
    this.headers =
      authorization === undefined
        ? NO_HEADERS
        : authorization === request.headers.authorization
          ? request.headers
          : { authorization }
  }
}

/** The request a strategy was handed, directly or inside an {@link AuthenticationAttempt}. */
export function requestOf(passed: Request): Request {
  return passed instanceof AuthenticationAttempt ? passed.request : passed
}
