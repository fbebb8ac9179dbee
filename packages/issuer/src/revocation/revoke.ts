import type { Request, RequestHandler, Response } from 'express'
import { beginPhase, endPhase } from '@ccflow/core'
import type { DenylistStore } from './denylist.js'
import { InvalidRequestError, TemporarilyUnavailableError } from '../errors.js'
import type { EmitEvent } from '../events.js'
import type { OwnTokenChecker } from './own-token-check.js'
import { stateOf } from '../http/request-state.js'

/**
 * Seconds a revoked token stays on the denylist after its `exp`. Verifiers accept a token for a
 * little while after `exp` (the guard's `clockTolerance`, 5 s by default); the entry must
 * outlive that window or the token would work again in it.
 */
const DENYLIST_GRACE_SECONDS = 60

/** What the revocation and introspection endpoints share. @internal */
export interface TokenStatusContext {
  checker: OwnTokenChecker
  /** The denylist; `undefined` when revocation is off (introspection then skips the lookup). */
  store: DenylistStore | undefined
}

/**
 * The RFC 7009 revocation handler, run after client authentication.
 *
 * - `token` is required (400 `invalid_request` without it); `token_type_hint` is accepted and
 *   ignored, as §2.1 allows: we issue one kind of token only.
 * - Only a token this issuer signed (any of its keys), issued to the authenticated client and not
 *   yet expired is put on the denylist, until its `exp` plus {@link DENYLIST_GRACE_SECONDS}.
 * - Every other token (unknown, malformed, forged, expired, another client's) gets the same
 *   200 with an empty body (§2.2): the answer never tells a client anything about a token that
 *   is not its own.
 * - A denylist that cannot record the revocation gives 503 (§2.2.1): the client must not
 *   believe the token is revoked.
 *
 * @see RFC 7009 §2
 * @internal
 */
export function createRevocationHandler(
  context: TokenStatusContext & { store: DenylistStore },
  emit: EmitEvent,
): RequestHandler {
  return (req, res, next) => {
    revoke(context, emit, req, res).then(undefined, next)
  }
}

async function revoke(
  { checker, store }: TokenStatusContext & { store: DenylistStore },
  emit: EmitEvent,
  req: Request,
  res: Response,
): Promise<void> {
  const token = requireTokenParameter(req)
  const state = stateOf(req)
  if (state?.client === undefined) throw new Error('revocation request state missing')
  const { client } = state
  const checked = checker.check(token)
  if (checked !== undefined && !checked.expired && checked.claims.client_id === client.client_id) {
    const { iss, jti, exp } = checked.claims
    const { trace } = state
    const step = trace === undefined ? undefined : beginPhase(trace, 'revocation_store', 'add')
    try {
      await store.add(iss, jti, exp + DENYLIST_GRACE_SECONDS)
    } catch (error) {
      throw new TemporarilyUnavailableError('denylist', { cause: error })
    }
    if (step !== undefined) endPhase(step)
    if (trace !== undefined) trace.revoked = true
    emit({ type: 'token_revoked', clientId: client.client_id, jti, expiresAt: exp, ip: req.ip })
  }
  // §2.2: "The content of the response body is ignored by the client"; nothing is sent.
  res.statusCode = 200
  res.setHeader('Content-Length', '0')
  res.end()
}

/**
 * The `token` parameter of a revocation or introspection request.
 *
 * @throws {InvalidRequestError} When it is missing (RFC 7009 §2.1, RFC 7662 §2.1: REQUIRED).
 * @internal
 */
export function requireTokenParameter(req: Request): string {
  const token = stateOf(req)?.params?.values.get('token')
  if (token === undefined) {
    throw new InvalidRequestError('The token parameter is missing.', { reason: 'missing_token' })
  }
  return token
}
