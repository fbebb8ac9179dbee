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
} from './options/types.js'

export {
  InvalidClientError,
  InvalidGrantError,
  InvalidRequestError,
  InvalidScopeError,
  InvalidTargetError,
  isTokenError,
  TemporarilyUnavailableError,
  TokenError,
  UnauthorizedClientError,
  UnsupportedGrantTypeError,
} from './errors.js'
export type {
  TemporarilyUnavailableErrorOptions,
  TokenErrorCode,
  TokenErrorOptions,
  TokenErrorReason,
  UnavailableDependency,
} from './errors.js'

export type {
  AssertionLegacyAudienceEvent,
  AuthenticationFailedEvent,
  ClientJwksEvent,
  AuthenticationFailureReason,
  ClientAuthMethod,
  IssuerEvent,
  RateLimitedEvent,
  ServerErrorEvent,
  StoreErrorEvent,
  TokenIssuedEvent,
  TokenRequestRejectedEvent,
  TokenRevokedEvent,
} from './events.js'

export { ISSUER_CHANNELS } from './observability/channels.js'
export type {
  IssuerOutcome,
  IssuerPhaseName,
  IssuerRequestMessage,
  IssuerRoute,
  IssuerSnapshot,
  SigningKeyState,
} from './observability/channels.js'

export {
  generateClientSecret,
  hashClientSecret,
  parseSecretId,
  verifyClientSecret,
} from './clients/secrets.js'
export type { SecretHashAlgorithm } from './clients/secrets.js'

export { memoryDenylist, redisDenylist } from './revocation/denylist.js'
export type {
  DenylistStore,
  MemoryDenylistOptions,
  RedisDenylistOptions,
} from './revocation/denylist.js'
export { rateLimitRedisCommand } from './redis-command.js'
export type { RateLimitRedisReply } from './redis-command.js'
export type { RedisCommandOptions, RedisSendCommand, RemoteKeySetEvent } from '@ccflow/core'

export { clientSecretBasicStrategy, clientSecretPostStrategy } from './clients/strategies.js'
export type {
  ClientSecretStrategy,
  ClientSecretStrategyOptions,
} from './clients/strategy-options.js'

export {
  jsonFileClientStore,
  readClientsFile,
  staticClientStore,
  validateClient,
} from './clients/client-store.js'
export type { Client, ClientJwks, ClientSecret, ClientStore } from './clients/client-store.js'

export {
  ASSERTION_ALGORITHMS,
  PRIVATE_KEY_JWT_DEFAULTS,
} from './clients/assertion/assertion-options.js'
export type {
  AssertionAlgorithm,
  AssertionAudienceRule,
  PrivateKeyJwtOptions,
} from './clients/assertion/assertion-options.js'
export { CLIENT_JWKS_DEFAULTS } from './clients/assertion/client-jwks.js'
export type { ClientJwksOptions } from './clients/assertion/client-jwks.js'
export {
  DEFAULT_REPLAY_PREFIX,
  memoryReplayStore,
  redisReplayStore,
} from './clients/assertion/replay-store.js'
export type {
  MemoryReplayStoreOptions,
  RedisReplayStoreOptions,
  ReplayStore,
} from './clients/assertion/replay-store.js'
export type { JsonFileClientStoreOptions } from './clients/client-file.js'

export {
  DEFAULT_SIGNING_ALGORITHM,
  generateSigningKey,
  importSigningKeys,
} from './tokens/signing-keys.js'
export type {
  PublicJwk,
  SigningAlgorithm,
  SigningJwk,
  SigningKeyInput,
  SigningKeysInput,
  SigningKeySet,
  SigningKeyStatus,
} from './tokens/signing-keys.js'
export type { Jwk, PrivateJwk } from '@ccflow/core'

export type { AccessTokenClaims } from './tokens/issue-token.js'
