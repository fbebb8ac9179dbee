import type { Request } from 'express'
import { NO_TOKEN, readBearerToken } from './http/bearer.js'
import type { TokenLocations } from './http/bearer.js'
import { Strategy } from '@ccflow/core'
import { bearerChallenge, isBearerError, UnauthorizedError } from './errors.js'
import type { GuardStats } from './observability/channels.js'
import { beginVerifyTrace, endVerifyTrace } from './observability/verify-trace.js'
import type { OptionTable } from '@ccflow/core'
import {
  resolveTransportOptions,
  resolveVerifierOptions,
  TOKEN_VERIFIER_OPTIONS,
} from './options/resolve.js'
import type { TokenVerifierOptions } from './options/types.js'
import type { AccessTokenClaims, AuthInfo } from './types.js'
import { createVerifierCore } from './verify/verifier.js'
import type { VerifierCore } from './verify/verifier.js'

/** Options of {@link BearerJwtStrategy}: the verifier's, plus where tokens may be sent. */
export interface BearerJwtStrategyOptions<C = AccessTokenClaims> extends TokenVerifierOptions<C> {
  /**
   * Extra token locations (RFC 6750 §2.2 form body, §2.3 query).
   * @default { body: false, query: false }
   */
  tokenLocations?: { body?: boolean | undefined; query?: boolean | undefined } | undefined
  /**
   * A request without any token calls `this.pass()` (the next strategy or an anonymous route).
   * @default false
   */
  credentialsOptional?: boolean | undefined
}

const STRATEGY_OPTIONS = {
  ...TOKEN_VERIFIER_OPTIONS,
  tokenLocations: true,
  credentialsOptional: true,
} satisfies OptionTable<BearerJwtStrategyOptions>

/**
 * A passport strategy (name `ccflow-bearer`) that verifies bearer JWT access tokens with exactly
 * the rules of {@link requireToken}. On success `req.user` is the {@link AuthInfo} (and `req.auth`
 * is set too, so {@link requireScopes} works after it); `info` is `{ scope }`. A token problem
 * fails with the RFC 6750 challenge and its status (passport writes the header for 401); a key
 * source or revocation outage is an error (503) for the app's error handler.
 *
 * @example
 * ```ts
 * passport.use(new BearerJwtStrategy({ issuer, audience, jwksUri }))
 * app.get('/api/me', passport.authenticate('ccflow-bearer', { session: false }), handler)
 * ```
 * @throws {TypeError} for a missing, unknown or unsafe option (named in the message).
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 */
export class BearerJwtStrategy extends Strategy {
  /** The passport strategy name. */
  readonly name: string = 'ccflow-bearer'
  /** Settles when the keys are loaded (see `TokenVerifier.ready`). */
  readonly ready: Promise<void>
  // Plain properties, not #private: passport calls authenticate() on Object.create(strategy),
  // and private fields are not reachable through the prototype.
  private readonly core: VerifierCore
  private readonly locations: TokenLocations
  private readonly optional: boolean

  constructor(options: BearerJwtStrategyOptions) {
    super()
    const config = resolveVerifierOptions(options, 'BearerJwtStrategy', STRATEGY_OPTIONS)
    const transport = resolveTransportOptions(
      options as unknown as Record<string, unknown>,
      'BearerJwtStrategy',
    )
    this.core = createVerifierCore(config)
    this.locations = { body: transport.body, query: transport.query }
    this.optional = transport.credentialsOptional
    this.ready = this.core.ready
  }

  /** Stops the remote key set; a no-op for static keys. */
  close(): void {
    this.core.close()
  }

  /** Counters and state of this strategy's verifier (see `TokenGuard.stats`). */
  stats(): GuardStats {
    return this.core.stats()
  }

  /** Called by passport for each request. */
  override authenticate(req: Request): void {
    const realm = this.core.config.realm
    const trace = beginVerifyTrace()
    let result: AuthInfo | Promise<AuthInfo>
    try {
      const token = readBearerToken(req, this.locations, realm)
      if (typeof token !== 'string') {
        if (this.optional) {
          endVerifyTrace(trace, 'anonymous')
          this.pass()
        } else {
          if (trace !== undefined) {
            const reason = token === NO_TOKEN ? 'missing_token' : 'unsupported_scheme'
            endVerifyTrace(trace, 'failure', new UnauthorizedError(reason, { realm }))
          }
          this.fail(bearerChallenge(realm), 401)
        }
        return
      }
      // Ends the trace itself from here on.
      result = this.core.traced(token, trace)
    } catch (error) {
      if (trace?.outcome === undefined) endVerifyTrace(trace, 'failure', error)
      this.reject(error)
      return
    }
    if (result instanceof Promise) {
      result.then(
        (auth) => this.accept(req, auth),
        (error: unknown) => this.reject(error),
      )
    } else {
      this.accept(req, result)
    }
  }

  private accept(req: Request, auth: AuthInfo): void {
    req.auth = auth
    this.success(auth, { scope: auth.scopes.join(' ') })
  }

  private reject(error: unknown): void {
    if (isBearerError(error) && error.status !== 503) {
      this.fail(error.headers['WWW-Authenticate'], error.status)
    } else {
      this.error(error instanceof Error ? error : new Error('Token verification failed'))
    }
  }
}
