import type { Request, RequestHandler, Response } from 'express'
import { beginPhase, endPhase } from '@ccflow/core'
import {
  InvalidRequestError,
  UnauthorizedClientError,
  UnsupportedGrantTypeError,
} from '../errors.js'
import { isObserved, type EmitEvent } from '../events.js'
import { sendJson } from '../http/respond.js'
import { signAccessToken } from './issue-token.js'
import type { TokenEndpointConfig } from '../options/resolve.js'
import { grantScope, selectAudience } from './scope.js'
import { stateOf } from '../http/request-state.js'
import { withinTime } from '../unavailable.js'

const GRANT_TYPE = 'client_credentials'
const DEFAULT_GRANT_TYPES: readonly string[] = [GRANT_TYPE]

/**
 * The client credentials grant (RFC 6749 §4.4) for an authenticated client: checks the grant
 * type, the scope and the target, signs the token and writes the §5.1 response.
 *
 * Errors go to `next(err)` explicitly (never through a rejected promise), so Express 4 and 5
 * behave the same.
 *
 * @see RFC 6749 §4.4.2, §4.4.3, §5.1; RFC 8707 §2
 * @internal
 */
export function createClientCredentialsGrant(
  config: TokenEndpointConfig,
  emit: EmitEvent,
): RequestHandler {
  return (req, res, next) => {
    issue(config, emit, req, res).then(undefined, next)
  }
}

async function issue(
  config: TokenEndpointConfig,
  emit: EmitEvent,
  req: Request,
  res: Response,
): Promise<void> {
  const state = stateOf(req)
  const client = state?.client
  const params = state?.params
  // Unreachable when the router is wired as designed; a guard, not a code path.
  if (state === undefined || client === undefined || params === undefined) {
    throw new Error('token request state missing')
  }

  const grantType = params.values.get('grant_type')
  if (grantType === undefined) {
    throw new InvalidRequestError('The grant_type parameter is missing.', {
      reason: 'missing_grant_type',
    })
  }
  if (grantType !== GRANT_TYPE) {
    throw new UnsupportedGrantTypeError(undefined, { reason: 'unsupported_grant_type' })
  }
  if (!(client.grant_types ?? DEFAULT_GRANT_TYPES).includes(GRANT_TYPE)) {
    throw new UnauthorizedClientError(undefined, { reason: 'grant_not_allowed' })
  }

  const scope = grantScope(client, params.values.get('scope'))
  const audience = selectAudience(client, params.resource, params.audience)
  const ttl = Math.min(
    client.access_token_ttl ?? config.accessTokenTtlSeconds,
    config.maxAccessTokenTtlSeconds,
  )
  const extraClaims =
    config.extraClaims === undefined
      ? undefined
      : await withinTime(
          config.extraClaims({ client, scope, audience }),
          config.hookTimeoutMs,
          'extra_claims',
        )

  // A throw leaves the step open: the trace ends it as failed.
  const signing = state.trace === undefined ? undefined : beginPhase(state.trace, 'sign')
  const { token, claims } = signAccessToken({
    keySet: config.keySet,
    issuer: config.issuer,
    clientId: client.client_id,
    audience,
    scope,
    ttl,
    ...(extraClaims === undefined ? {} : { extraClaims }),
  })
  if (signing !== undefined) endPhase(signing)

  const expiresIn = claims.exp - claims.iat
  // Built by hand: the token is base64url and dots, the numbers are integers, and only the
  // scope (validated scope tokens, but still) goes through JSON.stringify.
  const body =
    `{"access_token":"${token}","token_type":"Bearer","expires_in":${expiresIn}` +
    (scope === '' ? '}' : `,"scope":${JSON.stringify(scope)}}`)
  sendJson(res, 200, body)
  if (!isObserved(emit, 'token_issued')) return
  emit({
    type: 'token_issued',
    clientId: client.client_id,
    scope,
    audience,
    jti: claims.jti,
    expiresAt: claims.exp,
    ip: req.ip,
  })
}
