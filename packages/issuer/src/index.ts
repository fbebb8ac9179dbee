/**
 * `@ccflow/issuer`: an OAuth 2.0 client credentials token endpoint for Express. Mount
 * {@link tokenEndpoint} into an app to issue RFC 9068 JWT access tokens and publish the JWK Set
 * and RFC 8414 metadata, optionally with RFC 7009 revocation and RFC 7662 introspection; use the
 * secret and key helpers to provision clients and signing keys, and the Redis helpers to share
 * rate limits and revocations between instances.
 *
 * @module
 */

export { tokenEndpoint } from './token-endpoint.js'
export type {
  ExtraClaimsContext,
  IssuanceLimiterOptions,
  LimiterOptions,
  RateLimitSettings,
  RevocationSettings,
  TokenEndpointOptions,
} from './options.js'

export {
  InvalidClientError,
  InvalidGrantError,
  InvalidRequestError,
  InvalidScopeError,
  InvalidTargetError,
  TokenError,
  UnauthorizedClientError,
  UnsupportedGrantTypeError,
} from './errors.js'
export type { TokenErrorCode, TokenErrorOptions } from './errors.js'

export type {
  AuthenticationFailedEvent,
  AuthenticationFailureReason,
  ClientAuthMethod,
  IssuerEvent,
  RateLimitedEvent,
  ServerErrorEvent,
  TokenIssuedEvent,
  TokenRequestRejectedEvent,
  TokenRevokedEvent,
} from './events.js'

export {
  generateClientSecret,
  hashClientSecret,
  parseSecretId,
  verifyClientSecret,
} from './secrets.js'
export type { SecretHashAlgorithm } from './secrets.js'

export { memoryDenylist, redisDenylist } from './denylist.js'
export type { DenylistStore, MemoryDenylistOptions, RedisDenylistOptions } from './denylist.js'
export { rateLimitRedisCommand } from './redis-command.js'
export type { RateLimitRedisReply, RedisCommandOptions, RedisSendCommand } from './redis-command.js'

export { clientSecretBasicStrategy, clientSecretPostStrategy } from './client-auth.js'
export type { ClientSecretStrategy, ClientSecretStrategyOptions } from './client-auth.js'

export { jsonFileClientStore, staticClientStore, validateClient } from './client-store.js'
export type { Client, ClientSecret, ClientStore } from './client-store.js'

export { generateSigningKey, importSigningKeys } from './signing-keys.js'
export type {
  PublicJwk,
  SigningAlgorithm,
  SigningKeyInput,
  SigningKeySet,
  SigningKeyStatus,
} from './signing-keys.js'

export type { AccessTokenClaims } from './issue-token.js'
