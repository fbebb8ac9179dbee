import express, {
  type ErrorRequestHandler,
  type Request,
  type RequestHandler,
  type Router,
} from 'express'
import { createClientAuthentication } from './clients/client-auth.js'
import { createClientCredentialsGrant } from './tokens/client-credentials-grant.js'
import { createIntrospectionHandler } from './revocation/introspect.js'
import { isTokenError, TemporarilyUnavailableError } from './errors.js'
import { createEmitter, type EmitEvent } from './events.js'
import { errorBody, SERVER_ERROR_BODY, sendJson, setNoStore } from './http/respond.js'
import { jwksHandler } from './discovery/jwks.js'
import { metadataHandler } from './discovery/metadata.js'
import { resolveOptions } from './options/resolve.js'
import type { TokenEndpointOptions } from './options/types.js'
import { createFailureLimiter, createIssuanceLimiter } from './http/rate-limit.js'
import { createRevocationHandler } from './revocation/revoke.js'
import { checkContentType, readBody } from './http/body-reader.js'
import { parseTokenParams } from './http/params.js'
import { beginTokenRequest, stateOf } from './http/request-state.js'
import { provideSnapshots } from '@ccflow/core'
import { ISSUER_CHANNELS, type IssuerRoute, type IssuerSnapshot } from './observability/channels.js'
import { recordOutcome, timedStep } from './observability/request-trace.js'
import { signingKeyStates, type SigningKeySet } from './tokens/signing-keys.js'

/**
 * Creates a self-contained Express router for the OAuth 2.0 client credentials grant: `POST` to
 * the token path issues RFC 9068 JWT access tokens; `GET` serves the JWK Set and the RFC 8414
 * metadata.
 *
 * Everything the route needs is built here, once: its own body reader, rate limiters, a private
 * passport instance (never the app's singleton, no sessions) and a terminal JSON error handler.
 * Mounting it changes nothing else in the app: the app's `passport`, body parsers and error
 * handlers neither affect nor are affected by the token route, and requests to other paths pass
 * straight through.
 *
 * The token route runs, in order: a `Content-Type` check, the body reader (`bodyLimit`), the
 * per-IP failure limiter, client authentication (`client_secret_basic`, `client_secret_post` or
 * `private_key_jwt`), the per-client issuance limiter, the grant, and the error handler.
 * Every answer carries `Cache-Control: no-store` and `Pragma: no-cache`.
 *
 * With `revocation: { store }` it also serves `POST /revoke` (RFC 7009), and with
 * `introspection: true` `POST /introspect` (RFC 7662). Both run the same body reader, failure
 * limiter and client authentication as the token route, then their own handler.
 *
 * Mount it at the issuer URL's path: `app.use(tokenEndpoint(...))` for `https://auth.example`,
 * `app.use('/oauth', tokenEndpoint(...))` for `https://auth.example/oauth`.
 *
 * @example
 * ```ts
 * import express from 'express'
 * import { tokenEndpoint, staticClientStore } from '@ccflow/issuer'
 *
 * const app = express()
 * app.set('trust proxy', 1) // one reverse proxy in front: req.ip is the client's address
 * app.use(tokenEndpoint({
 *   issuer: 'https://auth.example.com',
 *   clients: staticClientStore(clients),
 *   keys: [{ kid: '2025-01', alg: 'ES256', privateKey: process.env.SIGNING_KEY! }],
 * }))
 * ```
 * @throws {TypeError} When an option is unknown or invalid; the message names the option.
 * @see RFC 6749 §4.4 and §5, RFC 8414 §2, RFC 7517 §5, RFC 8707 §2, RFC 9068, RFC 7009, RFC 7662
 */
export function tokenEndpoint(options: TokenEndpointOptions): Router {
  const config = resolveOptions(options)
  const emit = createEmitter(config.onEvent, {
    where: 'tokenEndpoint',
    hasPepper: config.secretPepper !== undefined,
  })

  // One failure limiter and one client authentication for every POST route: a wrong secret
  // costs the same budget whichever endpoint it is tried against.
  const failureLimiter = storeErrorsAs503(createFailureLimiter(config, emit))
  const clientAuthentication = timedStep(
    'client_authentication',
    undefined,
    createClientAuthentication(config, emit),
  )
  const authenticated = (route: IssuerRoute): RequestHandler[] => [
    beginTokenRequest(route),
    checkContentType(config.allowJsonBody),
    readBody(config.bodyLimit),
    parseTokenParams(),
    ...(failureLimiter === undefined ? [] : [timedStep('rate_limit', 'failures', failureLimiter)]),
    clientAuthentication,
  ]
  const issuanceLimiter = storeErrorsAs503(createIssuanceLimiter(config, emit))
  const tokenRoute: RequestHandler[] = [
    ...authenticated('token'),
    ...(issuanceLimiter === undefined
      ? []
      : [timedStep('rate_limit', 'issuance', issuanceLimiter)]),
    createClientCredentialsGrant(config, emit),
  ]
  // Gauges read the signing keys of every live endpoint (see ISSUER_CHANNELS.snapshot).
  provideSnapshots(ISSUER_CHANNELS.snapshot, config.keySet, issuerSnapshot)

  const router = express.Router()
  // The error handler sits inside the route, not on the router: Express never runs a route with
  // an error pending, so errors raised by the app before this router pass by untouched and
  // reach the app's own error handler.
  router
    .route(config.paths.token)
    .post(...tokenRoute, createErrorHandler(emit))
    .all(methodNotAllowed('POST'))
  router.route(config.paths.jwks).get(jwksHandler(config)).all(methodNotAllowed('GET, HEAD'))
  router
    .route(config.paths.metadata)
    .get(metadataHandler(config))
    .all(methodNotAllowed('GET, HEAD'))
  const checker = config.ownTokens
  if (config.revocation !== undefined && checker !== undefined) {
    router
      .route(config.paths.revocation)
      .post(
        ...authenticated('revocation'),
        createRevocationHandler({ checker, store: config.revocation.store }, emit),
        createErrorHandler(emit),
      )
      .all(methodNotAllowed('POST'))
  }
  if (config.introspection && checker !== undefined) {
    router
      .route(config.paths.introspection)
      .post(
        ...authenticated('introspection'),
        createIntrospectionHandler({ checker, store: config.revocation?.store }),
        createErrorHandler(emit),
      )
      .all(methodNotAllowed('POST'))
  }
  return router
}

/**
 * express-rate-limit hands a store failure to `next(err)` when `passOnStoreError` is false; that
 * is a 503 (the limiter cannot decide right now), not the generic 500 of an unexpected error.
 */
function storeErrorsAs503(limiter: RequestHandler | undefined): RequestHandler | undefined {
  if (limiter === undefined) return undefined
  return (req, res, next) => {
    void limiter(req, res, (err?: unknown) => {
      if (err === undefined || err === null) next()
      else if (err === 'route' || err === 'router') next(err)
      else next(new TemporarilyUnavailableError('rate_limit', { cause: err }))
    })
  }
}

const METHOD_NOT_ALLOWED_BODY = errorBody('invalid_request', 'The request method is not allowed.')
const BODY_TOO_LARGE_BODY = errorBody('invalid_request', 'The request body is too large.')
const UNREADABLE_BODY = errorBody('invalid_request', 'The request body could not be read.')

function methodNotAllowed(allow: string): RequestHandler {
  const headers = Object.freeze({ Allow: allow })
  return (req, res) => {
    setNoStore(res)
    if (req.method === 'OPTIONS') {
      res.statusCode = 204
      res.setHeader('Allow', allow)
      res.end()
      return
    }
    // RFC 9110 §15.5.6: 405 lists the methods the resource supports.
    sendJson(res, 405, METHOD_NOT_ALLOWED_BODY, headers)
  }
}

// The `type` values body-parser (Express 4 and 5) gives to errors it raises while reading.
const BODY_READER_ERRORS: ReadonlySet<string> = new Set([
  'entity.too.large',
  'request.aborted',
  'request.size.invalid',
  'stream.encoding.set',
  'stream.not.readable',
  'encoding.unsupported',
  'charset.unsupported',
])

/**
 * The token route's terminal handler: a `TokenError` becomes its RFC 6749 §5.2 JSON, with its
 * status and headers (a 503 `TemporarilyUnavailableError` is reported as `server_error`); a
 * body-reader error becomes 413 or 400; anything else becomes a generic 500 with no details,
 * reported to `onEvent` as `server_error`.
 */
function createErrorHandler(emit: EmitEvent): ErrorRequestHandler {
  // Four parameters: Express recognizes an error handler by its arity.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  return (err: unknown, req: Request, res, _next) => {
    const state = stateOf(req)
    const clientId = state?.client?.client_id ?? state?.clientId
    if (res.headersSent) {
      // Nothing sensible can be written any more; report and end the exchange.
      recordOutcome(state, 'server_error')
      emit({
        type: 'server_error',
        error: err,
        ...(clientId === undefined ? {} : { clientId }),
        ip: req.ip,
      })
      res.destroy()
      return
    }
    setNoStore(res)
    if (isTokenError(err)) {
      recordOutcome(state, err.code, err.reason)
      if (err.code === 'temporarily_unavailable') {
        // Not the client's fault: reported like an unexpected failure, with the error (and its
        // dependency and cause) for the logs.
        emit({
          type: 'server_error',
          error: err,
          ...(clientId === undefined ? {} : { clientId }),
          ip: req.ip,
        })
      } else if (err.code !== 'invalid_client') {
        // invalid_client was already reported as authentication_failed, with its precise reason.
        emit({
          type: 'token_request_rejected',
          error: err.code,
          reason: err.reason ?? err.code,
          ...(clientId === undefined ? {} : { clientId }),
          ip: req.ip,
        })
      }
      sendJson(res, err.status, errorBody(err.code, err.description), err.headers)
      return
    }
    const bodyError = bodyReaderError(err)
    if (bodyError !== undefined) {
      const tooLarge = bodyError === 'entity.too.large'
      recordOutcome(state, 'invalid_request', tooLarge ? 'body_too_large' : 'unreadable_body')
      emit({
        type: 'token_request_rejected',
        error: 'invalid_request',
        reason: tooLarge ? 'body_too_large' : 'unreadable_body',
        ip: req.ip,
      })
      sendJson(res, tooLarge ? 413 : 400, tooLarge ? BODY_TOO_LARGE_BODY : UNREADABLE_BODY)
      return
    }
    recordOutcome(state, 'server_error')
    emit({
      type: 'server_error',
      error: err,
      ...(clientId === undefined ? {} : { clientId }),
      ip: req.ip,
    })
    sendJson(res, 500, SERVER_ERROR_BODY)
  }
}

function bodyReaderError(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined
  const { type, status } = err as { type?: unknown; status?: unknown }
  return typeof type === 'string' &&
    BODY_READER_ERRORS.has(type) &&
    typeof status === 'number' &&
    status >= 400 &&
    status < 500
    ? type
    : undefined
}

function issuerSnapshot(keySet: SigningKeySet): IssuerSnapshot {
  return { signingKeys: signingKeyStates(keySet) }
}
