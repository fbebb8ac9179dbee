import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { fail, getContext } from './http/context.js'
import { InsufficientScopeError, UnauthorizedError } from './errors.js'
import { checkRequiredScopes } from './verify/scopes.js'

function scopeGuard(required: readonly string[], all: boolean): RequestHandler {
  return function requireScopesHandler(req: Request, res: Response, next: NextFunction): void {
    const auth = req.auth
    // Another middleware may own req.auth (express-basic-auth sets { user, password }): without
    // our scopes array it is no verified token, and a 401, not a TypeError and a 500.
    if (auth === undefined || !Array.isArray(auth.scopes)) {
      // A CORS preflight passed requireToken untouched; it passes here too.
      if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
        next()
        return
      }
      // No verified token: requireToken did not run, or let the request through anonymously.
      const context = getContext(req)
      fail(new UnauthorizedError('missing_token', { realm: context.realm }), context, res, next)
      return
    }
    const granted = auth.scopes
    const ok = all
      ? required.every((scope) => granted.includes(scope))
      : required.some((scope) => granted.includes(scope))
    if (ok) {
      next()
      return
    }
    const context = getContext(req)
    fail(new InsufficientScopeError(required, { realm: context.realm }), context, res, next)
  }
}

/**
 * Lets a request through only when its token grants **every** listed scope; otherwise 403
 * `insufficient_scope` with the required scopes in the challenge, or 401 when there is no
 * verified token. Use after {@link requireToken}, whose `realm` and `passErrors` it follows.
 *
 * @example
 * ```ts
 * app.delete('/api/reports/:id', requireScopes('reports:read', 'reports:delete'), handler)
 * ```
 * @throws {TypeError} for an empty list or a scope that is not an RFC 6749 scope-token.
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1 (insufficient_scope)
 */
export function requireScopes(...scopes: string[]): RequestHandler {
  return scopeGuard(checkRequiredScopes(scopes, 'requireScopes'), true)
}

/**
 * Lets a request through when its token grants **at least one** of the listed scopes; otherwise
 * 403 `insufficient_scope` (the challenge lists all of them), or 401 when there is no verified
 * token.
 *
 * @example
 * ```ts
 * app.get('/api/reports', requireAnyScope('reports:read', 'admin'), handler)
 * ```
 * @throws {TypeError} for an empty list or a scope that is not an RFC 6749 scope-token.
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1 (insufficient_scope)
 */
export function requireAnyScope(...scopes: string[]): RequestHandler {
  return scopeGuard(checkRequiredScopes(scopes, 'requireAnyScope'), false)
}
