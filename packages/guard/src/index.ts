/**
 * @ccflow/guard: Express middleware that protects routes with RFC 9068 JWT bearer access tokens
 * and the scopes they grant, answering with RFC 6750 errors.
 *
 * @example
 * ```ts
 * import { requireToken, requireScopes } from '@ccflow/guard'
 *
 * app.use('/api', requireToken({ issuer, audience, jwksUri }))
 * app.get('/api/reports', requireScopes('reports:read'), handler)
 * ```
 * @module
 */
import './augment.js'

export { requireToken } from './require-token.js'
export type { TokenGuard } from './require-token.js'
export { requireScopes, requireAnyScope } from './require-scopes.js'
export { createTokenVerifier } from './verify/verifier.js'
export type { TokenVerifier } from './verify/verifier.js'
export { BearerJwtStrategy } from './passport-strategy.js'
export type { BearerJwtStrategyOptions } from './passport-strategy.js'
export { redisRevocationCheck } from './verify/revocation-check.js'
export type {
  RedisRevocationCheckOptions,
  RedisSendCommand,
  RevocationCheck,
  RevocationCheckClaims,
} from './verify/revocation-check.js'
export {
  BearerError,
  isBearerError,
  UnauthorizedError,
  InvalidRequestError,
  InvalidTokenError,
  InsufficientScopeError,
  ServiceUnavailableError,
  KeySourceUnavailableError,
} from './errors.js'
export type {
  BearerErrorBody,
  BearerErrorCode,
  BearerErrorName,
  BearerErrorOptions,
  BearerErrorReason,
  ChallengeErrorCode,
  InvalidRequestReason,
  InvalidTokenReason,
  ServiceUnavailableOptions,
  ServiceUnavailableReason,
  UnauthorizedReason,
  UnavailableDependency,
} from './errors.js'
export { GUARD_CHANNELS } from './observability/channels.js'
export type {
  GuardOutcome,
  GuardSnapshot,
  GuardStats,
  GuardVerifyMessage,
} from './observability/channels.js'
export type { RequireTokenOptions, TokenVerifierOptions } from './options/types.js'
export type { ClaimMismatch, GuardEvent, KeySourceEvent, TokenRejectedEvent } from './events.js'
export type {
  AccessTokenClaims,
  AuthInfo,
  JsonWebKeyInput,
  Jwk,
  JwtHeader,
  PublicJwk,
  RemoteKeySetOptions,
  StaticKeyInput,
} from './types.js'
