import { logValue, warnOnce } from '@ccflow/core'
import type { AuthenticationFailedEvent, AuthenticationFailureReason } from '../events.js'

// A client refused by a misconfiguration (a secret hashed with a pepper the endpoint lacks, a
// record missing from the store) gets the same uniform 401 as an attacker; outside production,
// without an onEvent hook, the server's log says why, once per client and reason. The client id
// is the one value written: never a secret, a hash or a pepper.

/** Code of the warning for a refused client authentication (outside production only). */
const CLIENT_AUTH_WARNING = 'CCFLOW_ISSUER_CLIENT_AUTH'

/** What the endpoint knows about its own setup, for the explanation. */
export interface SetupFacts {
  /** The public factory named in the message (`tokenEndpoint`, a strategy's class). */
  readonly where: string
  /** Whether the endpoint was given a `secretPepper`. */
  readonly hasPepper: boolean
}

const EXPLAIN: Partial<Record<AuthenticationFailureReason, (facts: SetupFacts) => string>> = {
  wrong_secret: ({ hasPepper }) =>
    'the secret does not match the stored hash (or names a secret id the client does not ' +
    'have); ' +
    (hasPepper
      ? 'this endpoint has a secretPepper, so a hash made without it, or with another one, ' +
        'never matches: hash with the same pepper'
      : 'this endpoint has no secretPepper, so a hash made with one never matches: start it ' +
        'with the pepper the hash was made with (hashClientSecret(secret, { pepper }), ' +
        'CCFLOW_SECRET_PEPPER for `ccflow`)'),
  expired_secret: () => 'the secret has expired (its expires_at is past)',
  unknown_client: () => 'the client store has no client with this id',
  disabled_client: () => 'the client record is disabled',
  auth_method_not_allowed: () => "the method used is not the record's token_endpoint_auth_method",
  no_credentials: () => 'the request carried no client credentials',
}

/** Writes the one-line explanation of a refused client authentication, once per cause. */
export function warnAuthenticationFailure(
  event: AuthenticationFailedEvent,
  facts: SetupFacts,
): void {
  const client = event.clientId === undefined ? 'a client' : `client ${logValue(event.clientId)}`
  const method = event.method === undefined ? '' : ` with ${event.method}`
  const why = EXPLAIN[event.reason]?.(facts)
  warnOnce(
    CLIENT_AUTH_WARNING,
    `${facts.where}\n${event.reason}\n${String(event.method)}\n${String(event.clientId)}`,
    `${facts.where}: refused ${client}${method} (401 invalid_client, ${event.reason})` +
      `${why === undefined ? '' : `: ${why}`} (logged once per client and reason outside ` +
      'production; the response says only invalid_client)',
  )
}
