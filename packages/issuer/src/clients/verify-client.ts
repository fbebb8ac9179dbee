import type { Request } from 'express'
import type { ClientCredentials } from './basic-credentials.js'
import { checkStoredClient, type Client, type ClientSecret } from './client-store.js'
import { parseSecretId, UNMATCHABLE_SECRET_HASH, verifyClientSecret } from './secrets.js'
import { InvalidClientError, InvalidRequestError } from '../errors.js'
import type { AuthenticationFailureReason, ClientAuthMethod, EmitEvent } from '../events.js'
import { stateOf } from '../http/request-state.js'
import type { TokenEndpointConfig } from '../options/resolve.js'
import { DEFAULT_HOOK_TIMEOUT_MS } from '../unavailable.js'
import { findClientWithin } from './find-client.js'

const NO_SECRETS: readonly ClientSecret[] = Object.freeze([])

/** Result of checking presented credentials against the client store. */
export type VerifyResult =
  { ok: true; client: Client } | { ok: false; reason: AuthenticationFailureReason }

/**
 * Checks a client id and secret. Every failure does the same work, so response times do not tell
 * which client ids exist (RFC 6749 §10.10, RFC 6819 §5.1.4.2.2): the secret id is parsed, the
 * record looked up (a frozen record is validated once, not per request), and exactly one
 * verification is awaited: of the named stored hash, or, for an unknown client, an unknown
 * secret id or a `private_key_jwt` client, of a hash that matches nothing, with the same parsing,
 * HMAC and constant-time comparison. A disabled client, an expired secret or a disallowed method
 * are told apart only after that. scrypt hashes (imported human-chosen secrets) are the
 * documented exception: their check is deliberately slow and takes longer than the HMAC burn.
 *
 * With a `ccs_<id>_…` secret exactly one stored hash is checked; a secret without that prefix
 * (imported) is checked against each of the client's hashes in turn.
 *
 * `onStoreError` hears of a client store that throws or rejects; its error is then rethrown.
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
  onStoreError?: (error: unknown, clientId: string) => void,
): Promise<VerifyResult> {
  // Everything up to the one secret check runs the same on every path: the secret id is parsed,
  // the record looked up, and exactly one verification (of a real hash, or of one that matches
  // nothing) is awaited. What failed is decided only afterwards.
  const pepperOption = config.secretPepper === undefined ? {} : { pepper: config.secretPepper }
  const secretId = parseSecretId(secret)
  const found = await findClientWithin(
    config.clients,
    clientId,
    config.hookTimeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS,
    onStoreError,
  )
  // A record that is not valid throws here (a generic 500): read as is, `disabled: 'true'` or an
  // `expires_at` in milliseconds would let the client in. Frozen records are checked once.
  const client = found === undefined || found === null ? undefined : checkStoredClient(found)
  const known = client !== undefined && client.client_id === clientId
  // A private_key_jwt client has no secrets: its path is the unknown secret id's.
  const secrets = known ? (client.secrets ?? NO_SECRETS) : NO_SECRETS
  let matched: ClientSecret | undefined
  if (secretId !== undefined || secrets.length < 2) {
    // The common case, and the only shape the failures take: one hash to check, the named one
    // (or the only one), else a hash that matches nothing. One call, one await, on every path.
    const candidate = secretId === undefined ? secrets[0] : secretNamed(secrets, secretId)
    const hash = candidate === undefined ? UNMATCHABLE_SECRET_HASH : candidate.hash
    if (await verifyClientSecret(secret, hash, pepperOption)) matched = candidate
  } else {
    // An imported (unprefixed) secret of a client with several: each hash in turn.
    for (const candidate of secrets) {
      if (await verifyClientSecret(secret, candidate.hash, pepperOption)) {
        matched = candidate
        break
      }
    }
  }
  if (!known) return { ok: false, reason: 'unknown_client' }
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

function secretNamed(secrets: readonly ClientSecret[], id: string): ClientSecret | undefined {
  // A loop, not find(): no closure per request.
  for (const secret of secrets) if (secret.id === id) return secret
  return undefined
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
      undefined,
      (error, id) => {
        emit({ type: 'store_error', store: 'client_store', error, clientId: id, ip: req.ip })
      },
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
