import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { checkHeaderTokenSyntax, NO_TOKEN, readBearerToken } from './http/bearer.js'
import type { TokenLocations } from './http/bearer.js'
import { fail, rememberContext, setContext } from './http/context.js'
import type { GuardContext } from './http/context.js'
import { InsufficientScopeError, UnauthorizedError } from './errors.js'
import {
  REQUIRE_TOKEN_OPTIONS,
  resolveTransportOptions,
  resolveVerifierOptions,
} from './options/resolve.js'
import type { RequireTokenOptions } from './options/types.js'
import type { AccessTokenClaims, AuthInfo } from './types.js'
import { createVerifierCore } from './verify/verifier.js'
import type { GuardStats, GuardVerifyMessage } from './observability/channels.js'
import { beginVerifyTrace, endVerifyTrace } from './observability/verify-trace.js'

/** The middleware returned by {@link requireToken}. */
export interface TokenGuard extends RequestHandler {
  /**
   * Settles when the keys are loaded: at once for static keys, after the first JWKS fetch for
   * remote keys (rejecting with `KeySourceUnavailableError` if it failed). Requests that arrive
   * earlier wait for that fetch; awaiting `ready` before `listen()` is optional.
   */
  readonly ready: Promise<void>
  /** Stops the remote key set (aborts an in-flight fetch); a no-op for static keys. */
  close(): void
  /**
   * Counters and state of this guard: key source, key count and freshness of the remote key
   * set, size and hits of the verified-token cache. Cheap; safe to call from a readiness check.
   *
   * @example
   * ```ts
   * app.get('/ready', (_req, res) => {
   *   const { jwks } = guard.stats()
   *   res.status(jwks === undefined || jwks.fresh ? 200 : 503).end()
   * })
   * ```
   */
  stats(): GuardStats
}

/**
 * Protects routes with RFC 9068 JWT bearer access tokens.
 *
 * Reads the token from `Authorization: Bearer` (RFC 6750 §2.1; body and query only when enabled),
 * rejects malformed and oversized tokens before any cryptography, verifies the signature with an
 * algorithm allow-list matched to the keys, requires `iss`, `aud` and `exp`, checks `nbf`, `iat`
 * and `typ: at+jwt`, and sets `req.auth`. Verified tokens are cached (the time checks and
 * `isRevoked` still run on every request). Errors are answered with an RFC 6750 challenge and a
 * JSON body, or passed to `next(err)` with `passErrors`. CORS preflight requests pass untouched.
 *
 * @example
 * ```ts
 * app.use('/api', requireToken({
 *   issuer: 'https://auth.example.com',
 *   audience: 'https://api.example.com',
 *   jwksUri: 'https://auth.example.com/jwks.json',
 * }))
 * app.get('/api/reports', requireScopes('reports:read'), (req, res) => {
 *   res.json({ client: req.auth?.clientId })
 * })
 * ```
 * @typeParam C - the claims type passed to `isRevoked`.
 * @throws {TypeError} for a missing, unknown or unsafe option (named in the message).
 * @see https://www.rfc-editor.org/rfc/rfc6750 (bearer token usage)
 * @see https://www.rfc-editor.org/rfc/rfc9068 (JWT access token profile)
 */
export function requireToken<C extends AccessTokenClaims = AccessTokenClaims>(
  options: RequireTokenOptions<C>,
): TokenGuard {
  const config = resolveVerifierOptions(options, 'requireToken', REQUIRE_TOKEN_OPTIONS)
  const transport = resolveTransportOptions(
    options as unknown as Record<string, unknown>,
    'requireToken',
  )
  const { realm } = config
  const { credentialsOptional } = transport
  const locations: TokenLocations = { body: transport.body, query: transport.query }
  const context: GuardContext = { realm, passErrors: transport.passErrors }
  // requireScopes finds this guard's realm and passErrors through req.auth.
  const core = createVerifierCore(config, (auth) => rememberContext(auth, context))
  const check = core.check
  const required = transport.scopes
  // Run by the verifier on a cache miss only: a cached token passed it when it was first seen.
  const checkSyntax = (token: string): void => {
    checkHeaderTokenSyntax(token, realm)
  }

  // Shared by the synchronous and the async path; the request travels as arguments, not in a
  // fresh closure. `trace` (only when observed) ends here, after the guard-wide scope check.
  function accepted(
    req: Request,
    res: Response,
    next: NextFunction,
    auth: AuthInfo,
    trace: GuardVerifyMessage | undefined,
  ): void {
    req.auth = auth
    if (required !== undefined && !grantsAll(auth.scopes, required)) {
      refused(new InsufficientScopeError(required, { realm }), res, next, trace)
      return
    }
    endVerifyTrace(trace, 'success')
    next()
  }

  function refused(
    error: unknown,
    res: Response,
    next: NextFunction,
    trace: GuardVerifyMessage | undefined,
  ): void {
    endVerifyTrace(trace, 'failure', error)
    fail(error, context, res, next)
  }

  function requireTokenHandler(req: Request, res: Response, next: NextFunction): void {
    // A CORS preflight carries no credentials by design (Fetch standard); the CORS middleware
    // after us answers it.
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      next()
      return
    }
    const trace = beginVerifyTrace()
    let result: AuthInfo | Promise<AuthInfo>
    try {
      const token = readBearerToken(req, locations, realm, false)
      if (typeof token !== 'string') {
        if (credentialsOptional) {
          setContext(req, context)
          endVerifyTrace(trace, 'anonymous')
          next()
          return
        }
        throw new UnauthorizedError(token === NO_TOKEN ? 'missing_token' : 'unsupported_scheme', {
          realm,
        })
      }
      result = check(token, checkSyntax, trace)
    } catch (error) {
      refused(error, res, next, trace)
      return
    }
    if (result instanceof Promise) {
      result.then(
        (auth) => accepted(req, res, next, auth, trace),
        (error: unknown) => refused(error, res, next, trace),
      )
      return
    }
    accepted(req, res, next, result, trace)
  }

  return Object.assign(requireTokenHandler, {
    ready: core.ready,
    close: core.close,
    stats: core.stats,
  })
}

function grantsAll(granted: readonly string[], required: readonly string[]): boolean {
  for (const scope of required) if (!granted.includes(scope)) return false
  return true
}
