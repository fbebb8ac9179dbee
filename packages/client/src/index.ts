/**
 * @ccflow/client: the calling side of the OAuth 2.0 client credentials grant. It gets access
 * tokens from any RFC 6749 token endpoint, caches them with two deadlines, makes one request per
 * key for all concurrent callers, retries what is worth retrying, and adds them to `fetch`.
 *
 * @example
 * ```ts
 * import { createTokenClient } from '@ccflow/client'
 *
 * const tokens = createTokenClient({ issuer, clientId: 'billing', clientSecret, scope: 'reports:read' })
 * const response = await tokens.fetch('https://api.internal/reports')
 * ```
 * @module
 */

export { createTokenClient } from './token-client.js'
export { attachTokenClient } from './axios-adapter.js'
export type { AxiosLikeInstance, AxiosLikeRequestConfig } from './axios-adapter.js'
export type { AccessToken, InvalidateTarget, TokenCacheEntry, TokenClient } from './token-client.js'
export {
  isTokenClientError,
  OAuthError,
  ThrottledError,
  TokenClientError,
  TransportError,
} from './errors.js'
export type { TokenClientErrorCode, TransportErrorReason } from './errors.js'
export type {
  RefreshStartedEvent,
  RetryEvent,
  StoreErrorEvent,
  ThrottledEvent,
  TokenAcquiredEvent,
  TokenClientEvent,
  TokenFailedEvent,
  TokenSource,
} from './events.js'
export type {
  DispatcherLike,
  FetchFunction,
  GetTokenOptions,
  TokenClientOptions,
} from './options/types.js'
export type { AssertionAlgorithm, ClientAuthMethod } from './auth/client-auth.js'
export type { PrivateKeyInput } from './auth/private-key.js'
export { CLIENT_CHANNELS } from './observability/channels.js'
export type {
  TokenAcquisitionMessage,
  TokenFetchMessage,
  TokenFetchPhaseName,
  TokenOutcome,
} from './observability/channels.js'
export { DEFAULT_TOKEN_PREFIX, redisTokenStore } from './store/redis-token-store.js'
export type { RedisTokenStoreOptions } from './store/redis-token-store.js'
export type { StoredToken, TokenStore } from './store/token-store.js'
