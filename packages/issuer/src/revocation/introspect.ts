import type { Request, RequestHandler, Response } from 'express'
import { beginPhase, endPhase } from '@ccflow/core'
import { TemporarilyUnavailableError, UnauthorizedClientError } from '../errors.js'
import { sendJson } from '../http/respond.js'
import { requireTokenParameter, type TokenStatusContext } from './revoke.js'
import { stateOf } from '../http/request-state.js'

const INACTIVE_BODY = Buffer.from('{"active":false}')

/**
 * The RFC 7662 introspection handler, run after client authentication.
 *
 * - Only a client whose record says `introspection: true` may call it; any other authenticated
 *   client gets 400 `unauthorized_client`.
 * - `token` is required (400 `invalid_request`); `token_type_hint` is accepted and ignored
 *   (§2.1: the server may ignore it; we issue one kind of token).
 * - `{ "active": false }` and nothing else (§2.2: no detail on why) for a token that is
 *   malformed, not signed by one of this issuer's keys, from another issuer, expired, not yet
 *   valid, or on the denylist.
 * - For an active token: `active`, `scope`, `client_id`, `token_type` (`Bearer`), `exp`, `iat`,
 *   `nbf` (if the token has one), `sub`, `aud`, `iss` and `jti`.
 * - A denylist that cannot answer gives 503: "active" must never be said of a token that may be
 *   revoked.
 *
 * @see RFC 7662 §2
 * @internal
 */
export function createIntrospectionHandler(context: TokenStatusContext): RequestHandler {
  return (req, res, next) => {
    introspect(context, req, res).then(undefined, next)
  }
}

async function introspect(
  { checker, store }: TokenStatusContext,
  req: Request,
  res: Response,
): Promise<void> {
  const state = stateOf(req)
  if (state?.client === undefined) throw new Error('introspection request state missing')
  const { client, trace } = state
  if (client.introspection !== true) {
    throw new UnauthorizedClientError('The client is not allowed to introspect tokens.', {
      reason: 'introspection_not_allowed',
    })
  }
  const token = requireTokenParameter(req)
  const checked = checker.check(token)
  if (checked === undefined || checked.expired) {
    if (trace !== undefined) trace.active = false
    sendJson(res, 200, INACTIVE_BODY)
    return
  }
  const { claims } = checked
  if (store !== undefined) {
    let revoked: boolean
    const step = trace === undefined ? undefined : beginPhase(trace, 'revocation_store', 'has')
    try {
      revoked = await store.has(claims.iss, claims.jti)
    } catch (error) {
      throw new TemporarilyUnavailableError('denylist', { cause: error })
    }
    if (step !== undefined) endPhase(step)
    if (revoked) {
      if (trace !== undefined) trace.active = false
      sendJson(res, 200, INACTIVE_BODY)
      return
    }
  }
  if (trace !== undefined) trace.active = true
  const body = {
    active: true,
    scope: claims.scope,
    client_id: claims.client_id,
    token_type: 'Bearer',
    exp: claims.exp,
    iat: claims.iat,
    ...(typeof claims.nbf === 'number' ? { nbf: claims.nbf } : {}),
    sub: claims.sub,
    aud: claims.aud,
    iss: claims.iss,
    jti: claims.jti,
  }
  sendJson(res, 200, Buffer.from(JSON.stringify(body)))
}
