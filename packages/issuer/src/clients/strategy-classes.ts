import type { Request } from 'express'
import { countAuthorizationHeaders, Strategy } from '@ccflow/core'
import { BasicStrategy } from 'passport-http'
import { AuthenticationAttempt, requestOf } from './authentication-attempt.js'
import {
  checkBasicHeader,
  checkCredentials,
  type ClientCredentials,
  decodeClientCredentials,
  holdsUserPass,
} from './basic-credentials.js'
import type { Verify } from './verify-client.js'
import type { VerifyAssertion } from './assertion/verify-step.js'
import type { EmitEvent } from '../events.js'
import { stateOf } from '../http/request-state.js'

/** Passport strategy name of `client_secret_basic`. */
export const BASIC_STRATEGY = 'ccflow-client-secret-basic'
/** Passport strategy name of `client_secret_post`. */
export const POST_STRATEGY = 'ccflow-client-secret-post'
/** Passport strategy name of `private_key_jwt`. */
export const PRIVATE_KEY_JWT_STRATEGY = 'ccflow-private-key-jwt'

/**
 * How a strategy reports a refused client. Inside {@link tokenEndpoint}, `'error'`: the
 * `InvalidClientError` (with its reason and challenge) goes to the router's JSON error handler
 * through `error()`, as every other token error does. On an app's own passport, `'fail'`: the
 * strategy calls `fail()`, so passport can try the next strategy in the chain and answer 401
 * itself (or hand the failure to the app's callback).
 */
export type FailureMode = 'error' | 'fail'

/** What a strategy needs: the verify step and how to report a refusal. */
export interface StrategySettings {
  verify: Verify
  realm: string
  failures: FailureMode
  emit: EmitEvent
}

/**
 * `client_secret_basic` on passport-http's `BasicStrategy`: passport-http parses the header and
 * makes the challenge; the verify callback adds what passport-http lacks (RFC 6749 Appendix B
 * decoding, see {@link decodeClientCredentials}) and checks the secret.
 *
 * @see RFC 6749 §2.3.1
 */
export class ClientSecretBasicStrategy extends BasicStrategy {
  override name: string = BASIC_STRATEGY
  // Plain fields, not #private: passport runs each request on Object.create(strategy), and a
  // private field cannot be read through the prototype chain.
  private readonly challenge: string
  private readonly emit: EmitEvent

  constructor({ verify, realm, failures, emit }: StrategySettings) {
    super({ realm, passReqToCallback: true }, (passed, userid, password, done) => {
      const credentials = decodeClientCredentials(userid, password)
      verify(requestOf(passed), credentials, 'client_secret_basic').then(
        (result) => {
          if (!(result instanceof Error)) done(null, result)
          else if (failures === 'error') done(result)
          // passport-http answers a falsy user with fail(challenge).
          else done(null, false)
        },
        (err: unknown) => done(err instanceof Error ? err : new Error('client lookup failed')),
      )
    })
    this.challenge = `Basic realm="${realm}"`
    this.emit = emit
  }

  override authenticate(passed: Request, options?: object): void {
    // Inside tokenEndpoint the middleware has already checked the header and hands us an
    // attempt whose `headers` hold it in the form passport-http parses.
    if (passed instanceof AuthenticationAttempt) {
      super.authenticate(passed, options)
      return
    }
    const header = passed.headers.authorization
    if (header === undefined || header === '') {
      // Not an attempt at Basic: let the next strategy of the app's chain try.
      actions(this).fail(this.challenge)
      return
    }
    const checked =
      countAuthorizationHeaders(passed.rawHeaders) > 1 ? undefined : checkBasicHeader(header)
    // On an app's passport, also refuse here what passport-http would answer with its own
    // fail(400) or a challenge-less refusal, so that every malformed header gets the challenge
    // and an event.
    if (checked === undefined || !holdsUserPass(checked)) {
      this.emit({
        type: 'authentication_failed',
        reason: 'malformed_credentials',
        method: 'client_secret_basic',
        ip: passed.ip,
      })
      actions(this).fail(this.challenge)
      return
    }
    const attempt = new AuthenticationAttempt(passed, checked)
    super.authenticate(attempt as unknown as Request, options)
  }
}

/** The actions passport adds to the strategy object of each attempt (not in passport-http's types). */
function actions(strategy: BasicStrategy): { fail(challenge: string): void } {
  return strategy as unknown as { fail(challenge: string): void }
}

/**
 * `client_secret_post` (credentials in the form body) as a passport strategy. Written here on
 * passport-strategy because passport-oauth2-client-password is not a dependency. Inside
 * {@link tokenEndpoint} it reads the checked, de-duplicated parameters of the token request;
 * on an app's passport it reads `req.body` as `express.urlencoded()` left it.
 *
 * @see RFC 6749 §2.3.1
 */
export class ClientSecretPostStrategy extends Strategy {
  readonly name: string = POST_STRATEGY
  private readonly verify: Verify
  private readonly failures: FailureMode

  constructor({ verify, failures }: StrategySettings) {
    super()
    this.verify = verify
    this.failures = failures
  }

  override authenticate(passed: Request): void {
    const req = requestOf(passed)
    const values = stateOf(req)?.params?.values
    let credentials: ClientCredentials | undefined
    if (values !== undefined) {
      credentials = checkCredentials(values.get('client_id'), values.get('client_secret'))
    } else {
      const body: unknown = req.body
      const id = bodyField(body, 'client_id')
      const secret = bodyField(body, 'client_secret')
      // Neither parameter: not an attempt at this method; let the next strategy try.
      if (id === undefined && secret === undefined) {
        this.fail(401)
        return
      }
      credentials = checkCredentials(
        typeof id === 'string' ? id : undefined,
        typeof secret === 'string' ? secret : undefined,
      )
    }
    this.verify(req, credentials, 'client_secret_post').then(
      (result) => {
        if (!(result instanceof Error)) this.success(result)
        else if (this.failures === 'error') this.error(result)
        else this.fail(401)
      },
      (err: unknown) => this.error(err instanceof Error ? err : new Error('client lookup failed')),
    )
  }
}

/**
 * `private_key_jwt` (RFC 7523 §2.2) as a passport strategy of {@link tokenEndpoint}'s private
 * passport: a signed JWT in the form body (`client_assertion_type`, `client_assertion`,
 * optionally `client_id`) authenticates the client named by its `sub`. It reads the checked,
 * de-duplicated parameters of the token request (a repeated parameter was already refused) and
 * hands a refusal to the router's error handler through `error()`. Not offered for an app's own
 * passport yet: an app that wants it mounts {@link tokenEndpoint}.
 *
 * @see RFC 7521 §4.2, RFC 7523 §3
 */
export class PrivateKeyJwtStrategy extends Strategy {
  readonly name: string = PRIVATE_KEY_JWT_STRATEGY
  private readonly verify: VerifyAssertion

  constructor(verify: VerifyAssertion) {
    super()
    this.verify = verify
  }

  override authenticate(passed: Request): void {
    const req = requestOf(passed)
    const values = stateOf(req)?.params?.values
    this.verify(req, {
      type: values?.get('client_assertion_type'),
      assertion: values?.get('client_assertion'),
      clientId: values?.get('client_id'),
    }).then(
      (result) => {
        if (result instanceof Error) this.error(result)
        else this.success(result)
      },
      (err: unknown) => this.error(err instanceof Error ? err : new Error('client lookup failed')),
    )
  }
}

function bodyField(body: unknown, name: string): unknown {
  if (typeof body !== 'object' || body === null || !Object.hasOwn(body, name)) return undefined
  return (body as Record<string, unknown>)[name]
}
