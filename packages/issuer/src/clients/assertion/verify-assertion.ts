import { decodeCompactJws, type JwsHeaderPolicy, verifyJwsSignature } from '@ccflow/core'
import type { KeyObject } from 'node:crypto'
import { ASSERTION_ALGORITHMS, type PrivateKeyJwtConfig } from './assertion-options.js'
import { burnSignatureCheck } from './burn.js'
import { inlineClientKey } from './inline-keys.js'
import { findClientWithin } from '../find-client.js'
import { checkStoredClient, type Client, type ClientStore } from '../client-store.js'
import { isTokenError, TemporarilyUnavailableError } from '../../errors.js'
import type { AuthenticationFailureReason } from '../../events.js'
import { withinTime } from '../../unavailable.js'

/** `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2). */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

/** Largest accepted `client_assertion`, in characters (the 8 KiB). */
const MAX_ASSERTION_LENGTH = 8192

/** Longest accepted `jti`, in characters. */
const MAX_JTI_LENGTH = 256

// RFC 7515 §4.1.9 types, normalised (see normalizeType): absent, JWT, or the explicit
// client-authentication type of draft-ietf-oauth-rfc7523bis. Any other type (at+jwt, dpop+jwt,
// logout+jwt, …) names a token made for another purpose and is refused.
const ASSERTION_TYPES: ReadonlySet<string> = new Set([
  'application/jwt',
  'application/client-authentication+jwt',
])

/** What the assertion check needs from the endpoint's configuration. @internal */
export interface AssertionContext {
  readonly issuer: string
  /** The token endpoint URL, accepted as `aud` only under `assertionAudience: 'legacy'`. */
  readonly tokenEndpointUrl: string
  readonly clients: ClientStore
  readonly hookTimeoutMs: number
  readonly rules: PrivateKeyJwtConfig
}

/** Result of an assertion check: the client, or the precise reason for the event hook. */
export type AssertionResult =
  | {
      ok: true
      client: Client
      /** The `aud` was the token endpoint URL, accepted under `assertionAudience: 'legacy'`. */
      legacyAudience: boolean
    }
  | { ok: false; reason: AuthenticationFailureReason; clientId?: string }

const fail = (
  reason: AuthenticationFailureReason,
  clientId?: string,
): { ok: false; reason: AuthenticationFailureReason; clientId?: string } =>
  clientId === undefined ? { ok: false, reason } : { ok: false, reason, clientId }

/**
 * Checks a `private_key_jwt` client assertion (RFC 7523 §3), in this order, cheapest and least
 * revealing first:
 *
 * 1. size (8 KiB), compact JWS, JSON objects without duplicate members, no `crit`;
 * 2. header: `alg` in the server allow-list (never `none` or HMAC), `typ` absent, `JWT` or
 *    `client-authentication+jwt`; `jwk`, `jku`, `x5u` and `x5c` are never read;
 * 3. `sub` names the client (and equals the body's `client_id` when there is one); the client
 *    must be registered for `private_key_jwt`, and `alg` must be its registered one;
 * 4. the signature, with the client's registered keys only (by `kid`, or the only key that fits
 *    `alg`);
 * 5. `iss` = `sub` = client_id; `aud` by the `assertionAudience` rule;
 * 6. `exp` required and not past, lifetime within the limit, `iat`/`nbf` not in the future;
 * 7. `jti` required (≤ 256 characters);
 * 8. only then, the `jti` is recorded, atomically: a second use is refused.
 *
 * An unknown client, a client of another method and a disallowed algorithm each burn one
 * signature verification with a throw-away key of the same algorithm, so up to the signature
 * check every failure costs the same (no client enumeration by timing).
 *
 * `onSubject` hears of the claimed client as soon as it is read; `onStoreError` of a client store
 * that throws or rejects (its error is then rethrown).
 *
 * @throws {TemporarilyUnavailableError} When the client store, the client's `jwks_uri` or the
 *   replay store cannot answer (503: nothing is decided, nothing is issued).
 * @internal
 */
export async function verifyClientAssertion(
  context: AssertionContext,
  assertion: string,
  bodyClientId: string | undefined,
  now: number = Math.floor(Date.now() / 1000),
  onSubject?: (sub: string) => void,
  onStoreError?: (error: unknown, clientId: string) => void,
): Promise<AssertionResult> {
  const { rules } = context
  if (assertion.length > MAX_ASSERTION_LENGTH) return fail('assertion_too_large')
  const decoded = decodeCompactJws(assertion, HEADER_POLICY)
  if (typeof decoded === 'string') return fail(DECODE_REASONS[decoded])
  const { header, payload } = decoded
  const alg = header.alg
  const sub = payload.sub
  if (typeof sub !== 'string' || sub === '') return fail('malformed_assertion')
  // The claimed client, for the events of a 503 thrown below (as the secret methods record the
  // presented client id before their lookup).
  onSubject?.(sub)
  if (bodyClientId !== undefined && bodyClientId !== sub) return fail('client_id_mismatch', sub)

  const found = await findClientWithin(context.clients, sub, context.hookTimeoutMs, onStoreError)
  const client = found === undefined || found === null ? undefined : checkStoredClient(found)
  let refusal: AuthenticationFailureReason | undefined
  if (client === undefined || client.client_id !== sub) refusal = 'unknown_client'
  else if (client.token_endpoint_auth_method !== 'private_key_jwt') {
    refusal = 'auth_method_not_allowed'
  } else if (!algorithmAllowed(client, rules, alg)) refusal = 'assertion_alg_not_allowed'
  if (refusal !== undefined || client === undefined) {
    burnSignatureCheck(assertion, alg)
    return fail(refusal ?? 'unknown_client', sub)
  }

  const key = await clientKey(context, client, header.kid, alg)
  if (key === undefined) {
    burnSignatureCheck(assertion, alg)
    return fail('assertion_unknown_key', sub)
  }
  if (!verifyJwsSignature(assertion, alg, key)) return fail('assertion_bad_signature', sub)

  const claims = checkClaims(context, client, payload, now)
  if (typeof claims === 'string') return fail(claims, sub)
  if (client.disabled === true) return fail('disabled_client', sub)

  let firstUse: boolean
  try {
    firstUse = await withinTime(
      rules.replayStore.claim(
        client.client_id,
        claims.jti,
        claims.exp + rules.clockToleranceSeconds,
      ),
      context.hookTimeoutMs,
      'replay_store',
    )
  } catch (error) {
    if (isTokenError(error)) throw error
    throw new TemporarilyUnavailableError('replay_store', { cause: error })
  }
  if (!firstUse) return fail('assertion_replayed', sub)
  return { ok: true, client, legacyAudience: claims.legacyAudience }
}

const DECODE_REASONS = {
  malformed: 'malformed_assertion',
  duplicate_member: 'assertion_duplicate_member',
  crit_header: 'assertion_crit_header',
  bad_typ: 'assertion_bad_typ',
  unsupported_alg: 'assertion_alg_not_allowed',
  bad_signature: 'assertion_bad_signature',
} as const satisfies Record<string, AuthenticationFailureReason>

// Every algorithm a client may have registered is decoded; the per-client rule (its registered
// alg, else the server allow-list) is applied once the client is known.
const HEADER_POLICY: JwsHeaderPolicy = {
  algorithms: new Set<string>(ASSERTION_ALGORITHMS),
  types: ASSERTION_TYPES,
  typeOptional: true,
}

function algorithmAllowed(client: Client, rules: PrivateKeyJwtConfig, alg: string): boolean {
  const registered = client.token_endpoint_auth_signing_alg
  if (registered !== undefined) return alg === registered
  return (rules.signingAlgorithms as readonly string[]).includes(alg)
}

async function clientKey(
  context: AssertionContext,
  client: Client,
  kid: string | undefined,
  alg: string,
): Promise<KeyObject | undefined> {
  // A checked private_key_jwt record has exactly one of the two.
  const { jwks, jwks_uri: jwksUri } = client
  if (jwksUri !== undefined) return context.rules.keySets.getKey(jwksUri, kid, alg)
  return jwks === undefined ? undefined : inlineClientKey(jwks, kid, alg)
}

interface CheckedClaims {
  jti: string
  exp: number
  legacyAudience: boolean
}

function checkClaims(
  context: AssertionContext,
  client: Client,
  payload: Record<string, unknown>,
  now: number,
): CheckedClaims | AuthenticationFailureReason {
  const { rules } = context
  if (payload.iss !== client.client_id) return 'assertion_wrong_issuer'

  const aud = payload.aud
  // One value only, as a string or (unless 'issuer-string') a one-element array.
  let audience: unknown = aud
  if (Array.isArray(aud)) {
    if (rules.assertionAudience === 'issuer-string' || aud.length !== 1) {
      return 'assertion_wrong_audience'
    }
    audience = aud[0]
  }
  let legacyAudience = false
  if (audience !== context.issuer) {
    if (rules.assertionAudience !== 'legacy' || audience !== context.tokenEndpointUrl) {
      return 'assertion_wrong_audience'
    }
    legacyAudience = true
  }

  const tolerance = rules.clockToleranceSeconds
  const { exp, iat, nbf, jti } = payload
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return 'assertion_missing_exp'
  if (now >= exp + tolerance) return 'assertion_expired'
  if (iat !== undefined && (typeof iat !== 'number' || !Number.isFinite(iat))) {
    return 'malformed_assertion'
  }
  if (nbf !== undefined && (typeof nbf !== 'number' || !Number.isFinite(nbf))) {
    return 'malformed_assertion'
  }
  if (iat !== undefined && iat > now + tolerance) return 'assertion_issued_in_future'
  if (nbf !== undefined && nbf > now + tolerance) return 'assertion_not_yet_valid'
  const maxLifetime = client.max_assertion_lifetime ?? rules.maxAssertionLifetimeSeconds
  // Without iat the lifetime counts from now: a far exp is refused either way.
  if (exp - (iat ?? now) > maxLifetime) return 'assertion_lifetime_too_long'
  if (typeof jti !== 'string' || jti === '') return 'assertion_missing_jti'
  if (jti.length > MAX_JTI_LENGTH) return 'assertion_jti_too_long'
  return { jti, exp, legacyAudience }
}
