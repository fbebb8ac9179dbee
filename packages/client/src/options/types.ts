import type { AssertionAlgorithm, ClientAuthMethod } from '../auth/client-auth.js'
import type { PrivateKeyInput } from '../auth/private-key.js'
import type { TokenClientEvent } from '../events.js'
import type { TokenStore } from '../store/token-store.js'

/**
 * The fetch the client sends its requests with: the global `fetch`, or one with the same shape
 * (undici's `fetch`, a test double).
 */
export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>

/**
 * An undici `Dispatcher` (`Agent`, `ProxyAgent`, `MockAgent`, …), for proxies, mutual TLS or
 * connection limits. Typed by the one method the client relies on, so that this package needs no
 * undici types; it is passed to `fetch` as `init.dispatcher`.
 */
export interface DispatcherLike {
  dispatch(...args: never[]): unknown
}

/**
 * Options of {@link createTokenClient}. Give `issuer` (discovery) or `tokenEndpoint`, `clientId`,
 * and `clientSecret` or `privateKey`.
 */
export interface TokenClientOptions {
  /**
   * The authorization server's issuer identifier: the token endpoint is read from its RFC 8414
   * metadata (`/.well-known/oauth-authorization-server`), whose `issuer` must equal this string
   * exactly. https, or http on localhost. Give this or `tokenEndpoint`.
   * @default undefined
   */
  issuer?: string | undefined
  /**
   * The token endpoint URL, used as is (no discovery). https, or http on localhost. Give this or
   * `issuer`; with both, this one is used and `issuer` is only the assertion audience.
   * @default undefined
   */
  tokenEndpoint?: string | undefined
  /** The client identifier (RFC 6749 §2.2). Required. */
  clientId: string
  /**
   * The client secret, for `client_secret_basic` or `client_secret_post`. Give this or
   * `privateKey`.
   * @default undefined
   */
  clientSecret?: string | undefined
  /**
   * The private key for `private_key_jwt` (RFC 7523): a `KeyObject`, a private JWK or an
   * unencrypted PEM string. Give this or `clientSecret`.
   * @default undefined
   */
  privateKey?: PrivateKeyInput | undefined
  /**
   * How to authenticate. With `clientSecret`: `client_secret_basic` (the credentials in the
   * `Authorization` header, form-encoded as RFC 6749 Appendix B says) or `client_secret_post`
   * (in the body). With `privateKey`: `private_key_jwt`.
   * @default 'client_secret_basic' with a secret, 'private_key_jwt' with a key
   */
  authMethod?: ClientAuthMethod | undefined
  /**
   * The `kid` header of client assertions.
   * @default the JWK's `kid`, or none
   */
  keyId?: string | undefined
  /**
   * The algorithm of client assertions; it must fit the key (PS256 for an RSA key, for example).
   * @default ES256/ES384/ES512 by curve, EdDSA for Ed25519, RS256 for RSA, PS256 for RSA-PSS
   */
  algorithm?: AssertionAlgorithm | undefined
  /**
   * The `aud` of client assertions. The issuer identifier is what RFC 7523bis asks for and what
   * `@ccflow/issuer` expects; set this for a server that wants the token endpoint URL.
   * @default `issuer`, or `tokenEndpoint` when no issuer is given
   */
  assertionAudience?: string | undefined
  /**
   * The scope to request: a space-delimited string or a list of scope tokens (RFC 6749 §3.3).
   * Sent sorted and without duplicates; `getToken({ scope })` overrides it per call.
   * @default none (the server's default scope)
   */
  scope?: string | readonly string[] | undefined
  /**
   * The resource indicators (RFC 8707) to request: absolute URIs without fragment, sent as one
   * `resource` parameter each; `getToken({ resource })` overrides it per call. For a server that
   * names the API with an `audience` parameter instead, use `params: { audience }`.
   * @default none
   */
  resource?: string | readonly string[] | undefined
  /**
   * Extra form parameters of every token request (such as `audience` for servers that use it).
   * They are part of the cache key. The parameters the client sets itself (`grant_type`,
   * `scope`, `resource`, `client_id` and the credentials) cannot be given here.
   * @default {}
   */
  params?: Readonly<Record<string, string>> | undefined
  /**
   * Milliseconds one `getToken()` may take when it has to wait for the network: discovery,
   * every attempt and the waits between them. A request still running then fails with a
   * `TransportError` (`deadline`).
   * @default 10000
   */
  deadlineMs?: number | undefined
  /**
   * Retries after a network failure, a 429, or a 500, 502, 503 or 504 (so at most
   * `maxRetries + 1` attempts), with full-jitter exponential backoff from 200 ms up to 5 s. OAuth
   * errors (400, 401) are never retried.
   * @default 2
   */
  maxRetries?: number | undefined
  /**
   * Longest `Retry-After` (seconds) that a request waits out. A longer one fails at once with a
   * `ThrottledError`.
   * @default 60
   */
  maxRetryAfterSeconds?: number | undefined
  /**
   * Largest response body read from the token endpoint (and the metadata), in bytes.
   * @default 65536
   */
  maxResponseBytes?: number | undefined
  /**
   * Most cache keys (scope and resource combinations) kept in memory; the least recently used
   * is dropped first.
   * @default 1000
   */
  maxEntries?: number | undefined
  /**
   * A store shared by a fleet of processes, such as {@link redisTokenStore}: tokens are shared
   * and refreshed once for all. Memory only when not given.
   * @default undefined
   */
  store?: TokenStore | undefined
  /**
   * Receives every {@link TokenClientEvent}, synchronously; a throw or a rejected promise from
   * it is ignored.
   * @default undefined
   */
  onEvent?: ((event: TokenClientEvent) => void) | undefined
  /**
   * The fetch to send requests with.
   * @default globalThis.fetch
   */
  fetch?: FetchFunction | undefined
  /**
   * An undici Dispatcher passed to every request as `init.dispatcher` (token endpoint, metadata
   * and `tokens.fetch`). Use one from the undici version of the fetch it is given to: Node's
   * global fetch is its bundled undici, so pass undici's own `fetch` as `fetch` with a
   * dispatcher from the `undici` package when versions differ.
   * @default undefined (fetch's global dispatcher)
   */
  dispatcher?: DispatcherLike | undefined
}

/** Options of one `getToken()` call. */
export interface GetTokenOptions {
  /**
   * The scope for this call, instead of the client's `scope`. `''` or `[]` requests none.
   * @default the client's `scope`
   */
  scope?: string | readonly string[] | undefined
  /**
   * The resource indicators for this call, instead of the client's `resource`.
   * @default the client's `resource`
   */
  resource?: string | readonly string[] | undefined
  /**
   * Seconds the token must still be valid for: a cached token that expires sooner is not
   * returned, a new one is requested (and returned even if the server gives it a shorter life).
   * @default 0
   */
  minTtl?: number | undefined
  /**
   * Stops this caller's wait (a timeout: `AbortSignal.timeout(ms)`); `getToken()` then rejects
   * with the signal's reason. A token request other callers share goes on.
   * @default undefined
   */
  signal?: AbortSignal | undefined
}
