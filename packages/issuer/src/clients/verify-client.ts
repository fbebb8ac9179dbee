import type { Request } from 'express'
import type { ClientCredentials } from './basic-credentials.js'
import { checkStoredClient, type Client } from './client-store.js'
import { burnSecretCheck, parseSecretId, verifyClientSecret } from './secrets.js'
import { InvalidClientError, InvalidRequestError } from '../errors.js'
import type { AuthenticationFailureReason, ClientAuthMethod, EmitEvent } from '../events.js'
import { stateOf } from '../http/request-state.js'
import type { TokenEndpointConfig } from '../options/resolve.js'
import { DEFAULT_HOOK_TIMEOUT_MS, withinTime } from '../unavailable.js'

/** Result of checking presented credentials against the client store. */
export type VerifyResult =
  { ok: true; client: Client } | { ok: false; reason: AuthenticationFailureReason }

/**
 * Checks a client id and secret. Every path does the work of at least one secret verification,
 * so an unknown client costs what a wrong secret costs (no enumeration by timing, RFC 6749
 * §10.10 / RFC 6819 §5.1.4.2.2): an unknown client or an unknown secret id burns one HMAC, and a
 * disabled client, an expired secret or a disallowed method are only told apart after the
 * secret has been checked.
 *
 * With a `ccs_<id>_…` secret exactly one stored hash is checked; a secret without that prefix
 * (imported) is checked against each of the client's hashes in turn.
 *
 * @internal
 */
export async function verifyClientCredentials(
  config: Pick<TokenEndpointConfig, 'clients' | 'secretPepper'> &
    Partial<Pick<TokenEndpointConfig, 'hookTimeoutMs'>>,
  clientId: string,
  secret: string,
  method: ClientAuthMethod,
  now: number = Math.floor(Date.now() / 1000),
): Promise<VerifyResult> {
  const found: unknown = await withinTime(
    config.clients.findClient(clientId),
    config.hookTimeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS,
    'client_store',
  )
  // A record that is not valid throws here (a generic 500): read as is, `disabled: 'true'` or an
  // `expires_at` in milliseconds would let the client in.
  const client = found === undefined || found === null ? undefined : checkStoredClient(found)
  if (client === undefined || client.client_id !== clientId) {
    await burnSecretCheck(config.secretPepper, secret)
    return { ok: false, reason: 'unknown_client' }
  }
  const pepperOption = config.secretPepper === undefined ? {} : { pepper: config.secretPepper }
  const secretId = parseSecretId(secret)
  // A private_key_jwt client has no secrets: its path burns one HMAC like an unknown secret id.
  const secrets = client.secrets ?? []
  const candidates = secretId === undefined ? secrets : secrets.filter((s) => s.id === secretId)
  let matched: (typeof candidates)[number] | undefined
  if (candidates.length === 0) {
    await burnSecretCheck(config.secretPepper, secret)
  } else {
    for (const candidate of candidates) {
      if (await verifyClientSecret(secret, candidate.hash, pepperOption)) {
        matched = candidate
        break
      }
    }
  }
  if (matched === undefined) {
    const reason =
      client.token_endpoint_auth_method === 'private_key_jwt'
        ? 'auth_method_not_allowed'
        : 'wrong_secret'
    return { ok: false, reason }
  }
  if (matched.expires_at !== undefined && matched.expires_at <= now) {
    return { ok: false, reason: 'expired_secret' }
  }
  if (client.disabled === true) return { ok: false, reason: 'disabled_client' }
  if (
    client.token_endpoint_auth_method !== undefined &&
    client.token_endpoint_auth_method !== method
  ) {
    return { ok: false, reason: 'auth_method_not_allowed' }
  }
  return { ok: true, client }
}

export type Verify = (
  req: Request,
  credentials: ClientCredentials | undefined,
  method: ClientAuthMethod,
) => Promise<Client | InvalidClientError | InvalidRequestError>

/**
 * The verify step shared by both strategies, inside the token endpoint and on an app's passport:
 * records the method and client id on the token request (when there is one), checks a body
 * `client_id` against the Basic client, checks the secret, and reports a refusal to `onEvent`.
 */
export function createVerify(
  config: Pick<TokenEndpointConfig, 'clients' | 'secretPepper' | 'hookTimeoutMs'>,
  emit: EmitEvent,
  challenge: Readonly<Record<string, string>>,
): Verify {
  return async (req, credentials, method) => {
    const state = stateOf(req)
    if (state !== undefined) state.method = method
    const withChallenge = method === 'client_secret_basic'
    if (credentials === undefined) {
      return reject(
        emit,
        req,
        withChallenge ? challenge : undefined,
        'malformed_credentials',
        method,
      )
    }
    if (state !== undefined) state.clientId = credentials.clientId
    if (method === 'client_secret_basic') {
      // RFC 6749 §3.2.1 lets a client also name itself with a body client_id; it must be the
      // client the header authenticates.
      const bodyId = state?.params?.values.get('client_id')
      if (bodyId !== undefined && bodyId !== credentials.clientId) {
        return new InvalidRequestError(
          'The client_id parameter does not match the authenticated client.',
          { reason: 'client_id_mismatch' },
        )
      }
    }
    const result = await verifyClientCredentials(
      config,
      credentials.clientId,
      credentials.secret,
      method,
    )
    if (result.ok) return result.client
    return reject(
      emit,
      req,
      withChallenge ? challenge : undefined,
      result.reason,
      method,
      credentials.clientId,
    )
  }
}

/** Reports a refused client to `onEvent` and builds the uniform 401 `invalid_client`. */
export function reject(
  emit: EmitEvent,
  req: Request,
  challenge: Readonly<Record<string, string>> | undefined,
  reason: AuthenticationFailureReason,
  method?: ClientAuthMethod,
  clientId?: string,
): InvalidClientError {
  emit({
    type: 'authentication_failed',
    reason,
    ...(clientId === undefined ? {} : { clientId }),
    ...(method === undefined ? {} : { method }),
    ip: req.ip,
  })
  return new InvalidClientError(undefined, {
    reason,
    ...(challenge === undefined ? {} : { headers: challenge }),
  })
}
