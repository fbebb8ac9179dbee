import type { Request, RequestHandler } from 'express'
import { countAuthorizationHeaders } from '@ccflow/core'
import passport from 'passport'
import { AuthenticationAttempt, CLIENT_PROPERTY } from './authentication-attempt.js'
import { checkBasicHeader } from './basic-credentials.js'
import {
  BASIC_STRATEGY,
  ClientSecretBasicStrategy,
  ClientSecretPostStrategy,
  POST_STRATEGY,
  PRIVATE_KEY_JWT_STRATEGY,
  PrivateKeyJwtStrategy,
  type StrategySettings,
} from './strategy-classes.js'
import { prepareThrowAwayKeys } from './assertion/burn.js'
import type { AssertionContext } from './assertion/verify-assertion.js'
import { createVerifyAssertion } from './assertion/verify-step.js'
import { createVerify, reject } from './verify-client.js'
import { InvalidRequestError } from '../errors.js'
import type { EmitEvent } from '../events.js'
import { stateOf } from '../http/request-state.js'
import type { TokenEndpointConfig } from '../options/resolve.js'

/**
 * Client authentication for the token route: decides the one method the request uses, then runs
 * that strategy on a private `passport.Passport` (never the app's singleton), session-less.
 *
 * - Basic header, `client_secret` and a `client_assertion` (`private_key_jwt`, RFC 7523): any
 *   two together → 400 `invalid_request` (RFC 6749 §2.3: one method per request).
 * - `client_assertion_type` or `client_assertion` → `private_key_jwt`; a refusal is the same
 *   401 `invalid_client`, without a challenge (a body method, RFC 6749 §5.2).
 * - Any `Authorization` header is an attempt at header authentication. A scheme other than
 *   Basic is an "unsupported authentication method", which RFC 6749 §5.2 lists under
 *   `invalid_client`; it is answered 401 with our Basic challenge, the scheme we do support.
 * - No credentials at all → 401 `invalid_client` with the Basic challenge (RFC 7235 §3.1: a 401
 *   carries a challenge).
 * - Any failure of the credentials → the same 401 `invalid_client`; with the challenge when the
 *   header was used (RFC 6749 §5.2). The precise reason goes to `onEvent`.
 *
 * @internal
 */
export function createClientAuthentication(
  config: TokenEndpointConfig,
  emit: EmitEvent,
): RequestHandler {
  const challenge = Object.freeze({ 'WWW-Authenticate': `Basic realm="${config.realm}"` })
  const verify = createVerify(config, emit, challenge)
  const settings: StrategySettings = { verify, realm: config.realm, failures: 'error', emit }

  const authenticator = new passport.Passport()
  authenticator.use(new ClientSecretBasicStrategy(settings))
  authenticator.use(new ClientSecretPostStrategy(settings))
  prepareThrowAwayKeys()
  const assertionContext: AssertionContext = {
    issuer: config.issuer,
    tokenEndpointUrl: config.urls.token,
    clients: config.clients,
    hookTimeoutMs: config.hookTimeoutMs,
    rules: config.privateKeyJwt,
  }
  authenticator.use(new PrivateKeyJwtStrategy(createVerifyAssertion(assertionContext, emit)))
  // assignProperty: passport puts the client on the attempt's CLIENT_PROPERTY and calls next()
  // without logIn(), so no user is logged in; authInfo: false sets no authInfo.
  //
  // Refusals of our verify step travel as error(InvalidClientError), so they reach the router's
  // JSON error handler with their reason and challenge, as they always have. passport-http's own
  // fail() remains, for a header our cheap shape check let through but that does not decode to
  // `id:password` (no colon, an empty id or password). Without failWithError passport would
  // answer those itself with a text/plain "Unauthorized" or "Bad Request"; with it, passport sets
  // a status (and maybe the challenge) and calls next(AuthenticationError), which we turn into
  // the malformed_credentials InvalidClientError; its handler writes status, challenge and JSON
  // body over passport's, so the answer is byte-for-byte the one every other refusal gets.
  const strategyOptions = {
    session: false,
    assignProperty: CLIENT_PROPERTY,
    authInfo: false,
    failWithError: true,
  }
  const basic = authenticator.authenticate(BASIC_STRATEGY, strategyOptions) as RequestHandler
  const post = authenticator.authenticate(POST_STRATEGY, strategyOptions) as RequestHandler
  const privateKeyJwt = authenticator.authenticate(
    PRIVATE_KEY_JWT_STRATEGY,
    strategyOptions,
  ) as RequestHandler

  return (req, res, next) => {
    const state = stateOf(req)
    const values = state?.params?.values
    const header = req.headers.authorization
    let run: RequestHandler
    let authorization: string | undefined
    if (header !== undefined) {
      if (countAuthorizationHeaders(req.rawHeaders) > 1) {
        next(
          new InvalidRequestError('The request has more than one Authorization header.', {
            reason: 'multiple_authorization_headers',
          }),
        )
        return
      }
      if (values?.has('client_secret') === true || hasAssertion(values)) {
        next(multipleMethods())
        return
      }
      if (state !== undefined) state.method = 'client_secret_basic'
      authorization = checkBasicHeader(header)
      if (authorization === undefined) {
        next(reject(emit, req, challenge, 'malformed_credentials', 'client_secret_basic'))
        return
      }
      run = basic
    } else if (hasAssertion(values)) {
      if (values?.has('client_secret') === true) {
        next(multipleMethods())
        return
      }
      run = privateKeyJwt
    } else if (values?.has('client_secret') === true || values?.has('client_id') === true) {
      run = post
    } else {
      next(reject(emit, req, challenge, 'no_credentials'))
      return
    }
    const attempt = new AuthenticationAttempt(req, authorization)
    const done = (err?: unknown): void => {
      if (err !== undefined && err !== null) {
        next(
          isPassportFailure(err)
            ? reject(emit, req, challenge, 'malformed_credentials', 'client_secret_basic')
            : err,
        )
        return
      }
      const client = attempt.ccflowClient
      if (state !== undefined && client !== undefined) state.client = client
      next()
    }
    // passport-http decodes the header with the deprecated `new Buffer()`, whose deprecation
    // check captures the whole call stack (Error.stackTraceLimit = Infinity) on each of the first
    // 10 000 such calls in a Node 20 process, and nothing after. Started from a fresh tick, that
    // stack is a few frames deep instead of Express's whole middleware chain: in the bench's
    // server profile (ES256 token endpoint, fresh server) the check fell from 5.3 % to 2.9 % of
    // the CPU samples. The verify step is asynchronous anyway, so the tick changes no answer.
    if (run !== basic) {
      run(attempt as unknown as Request, res, done)
      return
    }
    process.nextTick(() => {
      // Outside Express's own try/catch here: a throw must still become next(err), not a crash.
      try {
        run(attempt as unknown as Request, res, done)
      } catch (err) {
        done(err)
      }
    })
  }
}

/** RFC 6749 §2.3: a client uses one authentication method per request. */
function multipleMethods(): InvalidRequestError {
  return new InvalidRequestError('The request uses more than one client authentication method.', {
    reason: 'multiple_auth_methods',
  })
}

/** Whether the request carries either `private_key_jwt` parameter (RFC 7521 §4.2). */
function hasAssertion(values: ReadonlyMap<string, string> | undefined): boolean {
  return (
    values !== undefined && (values.has('client_assertion') || values.has('client_assertion_type'))
  )
}

/** passport's `failWithError` error (passport/lib/errors/authenticationerror.js). */
function isPassportFailure(err: unknown): boolean {
  return err instanceof Error && err.name === 'AuthenticationError'
}
