import { countAuthorizationHeaders } from '@ccflow/core'
import type { IncomingMessage } from 'node:http'
import type { Request, RequestHandler } from 'express'
import passport from 'passport'
import { Strategy } from 'passport-strategy'
import { checkStoredClient, type Client } from './client-store.js'
import { InvalidClientError, InvalidRequestError } from '../errors.js'
import type { AuthenticationFailureReason, ClientAuthMethod, EventEmitter } from '../events.js'
import { formDecode } from '../http/form.js'
import type { TokenEndpointConfig } from '../options.js'
import { burnSecretCheck, parseSecretId, verifyClientSecret } from './secrets.js'
import { stateOf } from '../http/token-request.js'
import { DEFAULT_HOOK_TIMEOUT_MS, withinTime } from '../unavailable.js'

/** Passport strategy name of `client_secret_basic`. */
export const BASIC_STRATEGY = 'ccflow-client-secret-basic'
/** Passport strategy name of `client_secret_post`. */
export const POST_STRATEGY = 'ccflow-client-secret-post'

// Longest client id or secret we look at; longer values fail before any store or hash work.
const MAX_CREDENTIAL_LENGTH = 1024
// A Basic header holding two maximal credentials, each percent-encoded (3 bytes per character),
// in Base64 (4/3) stays under this; anything longer is refused before decoding.
const MAX_BASIC_HEADER_LENGTH = 8 * 1024 + 64
// RFC 7235 §2.1: auth-scheme is case-insensitive, then 1*SP, then token68 (RFC 7617: Base64).
const BASIC = /^basic +([A-Za-z0-9+/]+={0,2})$/i
const UTF8 = new TextDecoder('utf-8', { fatal: true })
const CLIENT_ID = /^[\x20-\x7e]+$/

/** Decoded client credentials. */
export interface ClientCredentials {
  clientId: string
  secret: string
}

/**
 * Decodes an `Authorization: Basic` header as RFC 6749 §2.3.1 requires: Base64, then split on
 * the FIRST colon (RFC 7617 §2: the user-id cannot contain one, the password can), then
 * `application/x-www-form-urlencoded` decoding of each half (Appendix B).
 *
 * This is why the endpoint does not use passport-http's `BasicStrategy`: it splits on every
 * colon (jaredhanson/passport-http#20), so a secret holding `:` loses everything after it, and it
 * never form-decodes, so a compliant client that sends `%3A` or `+` fails. Our secrets never hold
 * those characters, but imported ones may, and compliant client libraries always encode.
 *
 * @returns The credentials, or `undefined` for anything else: another scheme, bad Base64, bytes
 *   that are not UTF-8, no colon, an empty id or secret, a bad `%` escape, an oversized value,
 *   a client id with a character outside VSCHAR (RFC 6749 Appendix A.1).
 * @see RFC 6749 §2.3.1 and Appendix B, RFC 7617 §2
 */
export function decodeBasicCredentials(header: string): ClientCredentials | undefined {
  if (header.length > MAX_BASIC_HEADER_LENGTH) return undefined
  const token = BASIC.exec(header)?.[1]
  if (token === undefined || token.length % 4 === 1) return undefined
  let decoded: string
  try {
    decoded = UTF8.decode(Buffer.from(token, 'base64'))
  } catch {
    return undefined
  }
  const colon = decoded.indexOf(':')
  if (colon === -1) return undefined
  return checkCredentials(formDecode(decoded.slice(0, colon)), formDecode(decoded.slice(colon + 1)))
}

function checkCredentials(
  clientId: string | undefined,
  secret: string | undefined,
): ClientCredentials | undefined {
  if (clientId === undefined || secret === undefined) return undefined
  if (clientId === '' || secret === '') return undefined
  if (clientId.length > MAX_CREDENTIAL_LENGTH || secret.length > MAX_CREDENTIAL_LENGTH) {
    return undefined
  }
  // RFC 6749 Appendix A.1: client-id = *VSCHAR, as every registered id is. Anything else cannot
  // name a client, so it never reaches the store, and no control character reaches onEvent.
  if (!CLIENT_ID.test(clientId)) return undefined
  return { clientId, secret }
}

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
    Partial<Pick<TokenEndpointConfig, 'hookTimeout'>>,
  clientId: string,
  secret: string,
  method: ClientAuthMethod,
  now: number = Math.floor(Date.now() / 1000),
): Promise<VerifyResult> {
  const found: unknown = await withinTime(
    config.clients.findClient(clientId),
    config.hookTimeout ?? DEFAULT_HOOK_TIMEOUT_MS,
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
  const candidates =
    secretId === undefined ? client.secrets : client.secrets.filter((s) => s.id === secretId)
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
  if (matched === undefined) return { ok: false, reason: 'wrong_secret' }
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

type Verify = (
  req: IncomingMessage,
  credentials: ClientCredentials | undefined,
  method: ClientAuthMethod,
) => Promise<Client | InvalidClientError | InvalidRequestError>

/**
 * `client_secret_basic` as a passport strategy. Written on passport-strategy instead of using
 * passport-http's `BasicStrategy`; see {@link decodeBasicCredentials} for why.
 *
 * @see RFC 6749 §2.3.1
 */
export class ClientSecretBasicStrategy extends Strategy {
  readonly name: string = BASIC_STRATEGY
  // A plain field, not #private: passport runs each request on Object.create(strategy), and a
  // private field cannot be read through the prototype chain.
  private readonly verify: Verify

  constructor(verify: Verify) {
    super()
    this.verify = verify
  }

  override authenticate(passed: Request): void {
    const req = requestOf(passed)
    const header = req.headers.authorization ?? ''
    this.verify(req, decodeBasicCredentials(header), 'client_secret_basic').then(
      (result) => (result instanceof Error ? this.error(result) : this.success(result)),
      (err: unknown) => this.error(err instanceof Error ? err : new Error('client lookup failed')),
    )
  }
}

/**
 * `client_secret_post` (credentials in the form body) as a passport strategy. Written here on
 * passport-strategy because passport-oauth2-client-password is not a dependency, and because it
 * reads `req.body` (whose shape differs between Express 4 and 5, and which an app-level parser
 * may have filled) where we need the checked, de-duplicated parameters.
 *
 * @see RFC 6749 §2.3.1
 */
export class ClientSecretPostStrategy extends Strategy {
  readonly name: string = POST_STRATEGY
  private readonly verify: Verify

  constructor(verify: Verify) {
    super()
    this.verify = verify
  }

  override authenticate(passed: Request): void {
    const req = requestOf(passed)
    const values = stateOf(req)?.params?.values
    const credentials = checkCredentials(values?.get('client_id'), values?.get('client_secret'))
    this.verify(req, credentials, 'client_secret_post').then(
      (result) => (result instanceof Error ? this.error(result) : this.success(result)),
      (err: unknown) => this.error(err instanceof Error ? err : new Error('client lookup failed')),
    )
  }
}

const CLIENT_PROPERTY = 'ccflowClient'

/**
 * What our strategies get from passport as their `req`: one object per authentication attempt,
 * holding the real request. passport 0.7's authenticate middleware decorates the object it is
 * given (`login`, `logout`, `isAuthenticated`, `_sessionManager`, …) and puts the authenticated
 * client on it (`assignProperty`); handing it this object instead of the request means our
 * private instance never touches the app's request, its session manager or its login helpers,
 * with nothing to save and put back (deleting those fields again on every request also turned
 * each request object into a slow dictionary-mode object).
 *
 * @internal
 */
class AuthenticationAttempt {
  /** Set by passport on success (`assignProperty`). */
  ccflowClient: Client | undefined = undefined
  /** The request being authenticated. */
  readonly request: Request

  constructor(request: Request) {
    this.request = request
  }
}

/** The request a strategy was handed, directly or inside an {@link AuthenticationAttempt}. */
function requestOf(passed: Request): Request {
  return passed instanceof AuthenticationAttempt ? passed.request : passed
}

/**
 * Client authentication for the token route: decides the one method the request uses, then runs
 * that strategy on a private `passport.Passport` (never the app's singleton), session-less.
 *
 * - Basic header and `client_secret` in the body together → 400 `invalid_request` (RFC 6749
 *   §2.3: one method per request).
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
  emit: EventEmitter,
): RequestHandler {
  const challenge = Object.freeze({ 'WWW-Authenticate': `Basic realm="${config.realm}"` })

  const verify: Verify = async (req, credentials, method) => {
    const state = stateOf(req)
    if (state !== undefined) state.method = method
    const withChallenge = method === 'client_secret_basic'
    if (credentials === undefined) {
      return reject(req, withChallenge, 'malformed_credentials', method, undefined)
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
    return reject(req, withChallenge, result.reason, method, credentials.clientId)
  }

  function reject(
    req: IncomingMessage,
    withChallenge: boolean,
    reason: AuthenticationFailureReason,
    method: ClientAuthMethod | undefined,
    clientId: string | undefined,
  ): InvalidClientError {
    emit({
      type: 'authentication_failed',
      reason,
      ...(clientId === undefined ? {} : { clientId }),
      ...(method === undefined ? {} : { method }),
      ip: (req as Request).ip,
    })
    return new InvalidClientError(undefined, {
      reason,
      ...(withChallenge ? { headers: challenge } : {}),
    })
  }

  const authenticator = new passport.Passport()
  authenticator.use(new ClientSecretBasicStrategy(verify))
  authenticator.use(new ClientSecretPostStrategy(verify))
  // assignProperty: passport puts the client on the attempt's CLIENT_PROPERTY and calls next()
  // without logIn(), so no user is logged in; authInfo: false sets no authInfo.
  const strategyOptions = { session: false, assignProperty: CLIENT_PROPERTY, authInfo: false }
  const basic = authenticator.authenticate(BASIC_STRATEGY, strategyOptions) as RequestHandler
  const post = authenticator.authenticate(POST_STRATEGY, strategyOptions) as RequestHandler

  return (req, res, next) => {
    const state = stateOf(req)
    const values = state?.params?.values
    const header = req.headers.authorization
    let run: RequestHandler
    if (header !== undefined) {
      if (countAuthorizationHeaders(req.rawHeaders) > 1) {
        next(
          new InvalidRequestError('The request has more than one Authorization header.', {
            reason: 'multiple_authorization_headers',
          }),
        )
        return
      }
      if (values?.has('client_secret') === true) {
        next(
          new InvalidRequestError('The request uses more than one client authentication method.', {
            reason: 'multiple_auth_methods',
          }),
        )
        return
      }
      run = basic
    } else if (values?.has('client_secret') === true || values?.has('client_id') === true) {
      run = post
    } else {
      next(reject(req, true, 'no_credentials', undefined, undefined))
      return
    }
    const attempt = new AuthenticationAttempt(req)
    run(attempt as unknown as Request, res, (err?: unknown) => {
      const client = attempt.ccflowClient
      if (err !== undefined && err !== null) {
        next(err)
        return
      }
      if (state !== undefined && client !== undefined) state.client = client
      next()
    })
  }
}
