import type { Request } from 'express'
import {
  type AssertionContext,
  JWT_BEARER_ASSERTION_TYPE,
  verifyClientAssertion,
} from './verify-assertion.js'
import type { Client } from '../client-store.js'
import { reject } from '../verify-client.js'
import type { InvalidClientError } from '../../errors.js'
import type { EmitEvent } from '../../events.js'
import { stateOf } from '../../http/request-state.js'

/** The `private_key_jwt` parameters of one request (RFC 7521 §4.2, RFC 7523 §2.2). */
export interface AssertionParams {
  type: string | undefined
  assertion: string | undefined
  clientId: string | undefined
}

/** Checks the assertion parameters of a request; resolves the client or the refusal. */
export type VerifyAssertion = (
  req: Request,
  params: AssertionParams,
) => Promise<Client | InvalidClientError>

/**
 * The verify step of the `private_key_jwt` strategy: records the method (and, once known, the
 * client id) on the token request, checks the assertion type and the assertion, and reports a
 * refusal to `onEvent` with its precise reason. The caller only ever sees the uniform 401
 * `invalid_client` (RFC 7521 §4.2.1); a body method carries no challenge (RFC 6749 §5.2).
 *
 * @internal
 */
export function createVerifyAssertion(context: AssertionContext, emit: EmitEvent): VerifyAssertion {
  return async (req, { type, assertion, clientId }) => {
    const state = stateOf(req)
    if (state !== undefined) state.method = 'private_key_jwt'
    if (type !== JWT_BEARER_ASSERTION_TYPE) {
      return reject(emit, req, undefined, 'unsupported_assertion_type', 'private_key_jwt')
    }
    if (assertion === undefined || assertion === '') {
      return reject(emit, req, undefined, 'malformed_assertion', 'private_key_jwt')
    }
    // The claimed client (the assertion's sub) goes on the request as soon as it is read, so the
    // events of every later outcome, a 503 included, name it.
    const result = await verifyClientAssertion(
      context,
      assertion,
      clientId,
      undefined,
      (sub) => {
        if (state !== undefined) state.clientId = sub
      },
      (error, sub) => {
        emit({ type: 'store_error', store: 'client_store', error, clientId: sub, ip: req.ip })
      },
    )
    if (result.ok) {
      if (result.legacyAudience) {
        emit({ type: 'assertion_legacy_audience', clientId: result.client.client_id, ip: req.ip })
      }
      return result.client
    }
    return reject(emit, req, undefined, result.reason, 'private_key_jwt', result.clientId)
  }
}
