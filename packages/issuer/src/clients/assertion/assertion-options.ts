import {
  checkInteger,
  checkKnownKeys,
  checkObject,
  checkOneOf,
  optionError,
  type OptionTable,
  type RemoteKeySetEvent,
  SIGNATURE_ALGORITHMS,
  type SignatureAlgorithm,
} from '@ccflow/core'
import { type ClientJwksOptions, type ClientKeySets, createClientKeySets } from './client-jwks.js'
import { memoryReplayStore, type ReplayStore } from './replay-store.js'

/** A JWS algorithm a client may sign its assertion with (RFC 7518 §3, RFC 8037 for EdDSA). */
export type AssertionAlgorithm = SignatureAlgorithm

/**
 * Which `aud` values a client assertion may carry (RFC 7523 §3 item 3):
 * - `'issuer'`: the issuer identifier, as a string or as an array holding only it;
 * - `'issuer-string'`: the issuer identifier as a string, nothing else;
 * - `'legacy'`: also the token endpoint URL (still one value only), for clients that still send
 *   it; every such use is reported (`assertion_legacy_audience`) so that operators see who must
 *   move.
 *
 * Never an array of several values and never anything derived from the request's `Host`: an
 * assertion accepted under several audiences can be replayed against another server
 * (the 2025 audience-injection attack, CVE-2025-27370/27371; draft-ietf-oauth-rfc7523bis).
 */
export type AssertionAudienceRule = 'issuer' | 'issuer-string' | 'legacy'

/**
 * Options of `private_key_jwt` client authentication (RFC 7523 §2.2, §3), under the token
 * endpoint's `privateKeyJwt`. Clients opt in through their record
 * (`token_endpoint_auth_method: 'private_key_jwt'` with `jwks` or `jwks_uri`); these options set
 * the rules every assertion is held to.
 */
export interface PrivateKeyJwtOptions {
  /**
   * Which `aud` values are accepted; see {@link AssertionAudienceRule}.
   * @default 'issuer'
   */
  assertionAudience?: AssertionAudienceRule | undefined
  /**
   * Algorithms accepted from clients that registered none (`token_endpoint_auth_signing_alg`),
   * published in the metadata. RSA keys must have at least 2048 bits; `none` and HMAC
   * algorithms are never accepted.
   * @default PRIVATE_KEY_JWT_DEFAULTS.signingAlgorithms (ES256, EdDSA, PS256, RS256)
   */
  signingAlgorithms?: readonly AssertionAlgorithm[] | undefined
  /**
   * Longest accepted assertion lifetime, `exp` minus `iat` (or minus now without `iat`), in
   * seconds (1 to 3600); a client record's `max_assertion_lifetime` overrides it.
   * @default PRIVATE_KEY_JWT_DEFAULTS.maxAssertionLifetimeSeconds (300)
   */
  maxAssertionLifetimeSeconds?: number | undefined
  /**
   * Seconds of clock difference tolerated on `exp`, `iat` and `nbf` (0 to 300).
   * @default PRIVATE_KEY_JWT_DEFAULTS.clockToleranceSeconds (15)
   */
  clockToleranceSeconds?: number | undefined
  /**
   * Where used assertion `jti`s are remembered. Give every instance the same
   * `redisReplayStore(...)` when there is more than one.
   * @default memoryReplayStore()
   */
  replayStore?: ReplayStore | undefined
  /**
   * How clients' `jwks_uri` are fetched: https only, no private, loopback or link-local address
   * unless allow-listed, 5 s, 64 KiB, cached 60 s to 24 h, stale keys kept an hour while the URI
   * is down. See {@link ClientJwksOptions}.
   * @default CLIENT_JWKS_DEFAULTS
   */
  jwksUri?: ClientJwksOptions | undefined
}

/** The defaults of {@link PrivateKeyJwtOptions}. */
export const PRIVATE_KEY_JWT_DEFAULTS: Readonly<{
  assertionAudience: AssertionAudienceRule
  signingAlgorithms: readonly AssertionAlgorithm[]
  maxAssertionLifetimeSeconds: number
  clockToleranceSeconds: number
}> = Object.freeze({
  assertionAudience: 'issuer',
  signingAlgorithms: Object.freeze(['ES256', 'EdDSA', 'PS256', 'RS256'] as const),
  maxAssertionLifetimeSeconds: 300,
  clockToleranceSeconds: 15,
})

/** Every algorithm an assertion may use: never `none`, never an HMAC one. */
export const ASSERTION_ALGORITHMS: readonly AssertionAlgorithm[] = SIGNATURE_ALGORITHMS

const PRIVATE_KEY_JWT_OPTIONS = {
  assertionAudience: true,
  signingAlgorithms: true,
  maxAssertionLifetimeSeconds: true,
  clockToleranceSeconds: true,
  replayStore: true,
  jwksUri: true,
} satisfies OptionTable<PrivateKeyJwtOptions>

/** Checked {@link PrivateKeyJwtOptions}. @internal */
export interface PrivateKeyJwtConfig {
  readonly assertionAudience: AssertionAudienceRule
  /** Server allow-list, for clients without a registered algorithm and for the metadata. */
  readonly signingAlgorithms: readonly AssertionAlgorithm[]
  readonly maxAssertionLifetimeSeconds: number
  readonly clockToleranceSeconds: number
  readonly replayStore: ReplayStore
  /** The clients' `jwks_uri` key sets, fetched lazily. */
  readonly keySets: ClientKeySets
}

/**
 * Checks the `privateKeyJwt` option of `tokenEndpoint`.
 *
 * @throws {TypeError} `tokenEndpoint: option "privateKeyJwt.<name>" …` for an unknown option or
 *   a bad value.
 * @internal
 */
export function resolvePrivateKeyJwtOptions(
  value: unknown,
  where: string,
  onJwksEvent?: (event: RemoteKeySetEvent & { jwksUri: string }) => void,
): PrivateKeyJwtConfig {
  const given = value === undefined ? {} : checkObject(value, where, 'privateKeyJwt')
  checkKnownKeys(given, PRIVATE_KEY_JWT_OPTIONS, where, 'privateKeyJwt.')
  const d = PRIVATE_KEY_JWT_DEFAULTS
  const at = (name: string): { where: string; path: string } => ({
    where,
    path: `privateKeyJwt.${name}`,
  })
  return Object.freeze({
    assertionAudience: checkOneOf(
      given.assertionAudience,
      at('assertionAudience'),
      ['issuer', 'issuer-string', 'legacy'] as const,
      d.assertionAudience,
    ),
    signingAlgorithms: checkAlgorithms(given.signingAlgorithms, where),
    maxAssertionLifetimeSeconds: checkInteger(
      given.maxAssertionLifetimeSeconds,
      at('maxAssertionLifetimeSeconds'),
      { min: 1, max: 3600 },
      d.maxAssertionLifetimeSeconds,
    ),
    clockToleranceSeconds: checkInteger(
      given.clockToleranceSeconds,
      at('clockToleranceSeconds'),
      { min: 0, max: 300 },
      d.clockToleranceSeconds,
    ),
    replayStore: checkReplayStore(given.replayStore, where),
    keySets: createClientKeySets(given.jwksUri as ClientJwksOptions | undefined, onJwksEvent, {
      where,
      prefix: 'privateKeyJwt.jwksUri.',
    }),
  })
}

function checkAlgorithms(value: unknown, where: string): readonly AssertionAlgorithm[] {
  if (value === undefined) return PRIVATE_KEY_JWT_DEFAULTS.signingAlgorithms
  const allowed: readonly string[] = ASSERTION_ALGORITHMS
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    value.some((alg) => typeof alg !== 'string' || !allowed.includes(alg)) ||
    new Set(value).size !== value.length
  ) {
    throw optionError(
      where,
      'privateKeyJwt.signingAlgorithms',
      `must be a non-empty array of distinct algorithms from ${ASSERTION_ALGORITHMS.join(', ')}`,
    )
  }
  return Object.freeze([...(value as AssertionAlgorithm[])])
}

function checkReplayStore(value: unknown, where: string): ReplayStore {
  if (value === undefined) return memoryReplayStore()
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof (value as Partial<ReplayStore>).claim !== 'function'
  ) {
    throw optionError(
      where,
      'privateKeyJwt.replayStore',
      'must be a ReplayStore (memoryReplayStore() or redisReplayStore(...))',
    )
  }
  return value as ReplayStore
}
