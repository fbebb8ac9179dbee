import { countAuthorizationHeaders } from '@ccflow/core'
import { isUtf8 } from 'node:buffer'
import type { Request, RequestHandler } from 'express'
import passport from 'passport'
import { BasicStrategy } from 'passport-http'
import { Strategy } from 'passport-strategy'
import { checkStoredClient, type Client, type ClientStore } from './client-store.js'
import { InvalidClientError, InvalidRequestError } from '../errors.js'
import {
  createEmitter,
  type AuthenticationFailureReason,
  type ClientAuthMethod,
  type EventEmitter,
  type IssuerEvent,
} from '../events.js'
import { formDecode } from '../http/form.js'
import { REALM, type TokenEndpointConfig } from '../options.js'
import { burnSecretCheck, checkPepper, parseSecretId, verifyClientSecret } from './secrets.js'
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
const REPLACEMENT = '\uFFFD'
const COLON = 0x3a
const CLIENT_ID = /^[\x20-\x7e]+$/

/** Decoded client credentials. */
export interface ClientCredentials {
  clientId: string
  secret: string
}

/**
 * Checks the shape of an `Authorization` header before passport-http's `BasicStrategy` reads it:
 * a bounded length, the Basic scheme (case-insensitive, RFC 7235 §2.1) and a token68 that is
 * Base64 of a possible length. Anything else passport-http would misread (another scheme that
 * merely contains "basic", an empty token after a second space, lenient Base64) or answer with a
 * text/plain `fail(400)`; here it costs no decoding and no store lookup.
 *
 * What needs the decoded bytes is left to passport-http, which decodes the token once: no colon,
 * an empty id or password (its own `fail()`, which the token endpoint answers like every other
 * malformed header), and bytes that are not UTF-8 (U+FFFD, refused by
 * {@link decodeClientCredentials}).
 *
 * @returns The header as passport-http parses it (`Basic <token>`, one space), or `undefined`.
 * @see RFC 6749 §2.3.1, RFC 7617 §2
 */
export function checkBasicHeader(header: string): string | undefined {
  if (header.length > MAX_BASIC_HEADER_LENGTH) return undefined
  const token = BASIC.exec(header)?.[1]
  if (token === undefined || token.length % 4 === 1) return undefined
  // passport-http splits on a single space: hand it one.
  return header.length === token.length + 6 ? header : `Basic ${token}`
}

/**
 * What the `BasicStrategy` verify callback does with the user-id and password passport-http
 * hands it: RFC 6749 Appendix B decoding of both (`+` is a space, `%XX` is UTF-8), which
 * passport-http does not do (jaredhanson/passport-http#20), then the length and VSCHAR checks.
 *
 * passport-http splits the decoded header on every colon and passes only the text up to the
 * second one as the password, so a client that puts a raw `:` in its secret instead of `%3A`
 * (as RFC 6749 §2.3.1 requires) presents a truncated secret and fails authentication.
 *
 * @returns The credentials, or `undefined` for bytes that were not UTF-8, a bad `%` escape, an
 *   empty or oversized value, or a client id with a character outside VSCHAR (Appendix A.1).
 * @see RFC 6749 §2.3.1 and Appendix B
 */
export function decodeClientCredentials(
  userid: string,
  password: string,
): ClientCredentials | undefined {
  // passport-http decodes the header with Buffer#toString(), which turns bytes that are not
  // UTF-8 (RFC 7617 §2.1) into U+FFFD; a client id holding one fails the VSCHAR check below.
  if (password.includes(REPLACEMENT)) return undefined
  return checkCredentials(formDecode(userid), formDecode(password))
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
  req: Request,
  credentials: ClientCredentials | undefined,
  method: ClientAuthMethod,
) => Promise<Client | InvalidClientError | InvalidRequestError>

/**
 * How a strategy reports a refused client. Inside {@link tokenEndpoint}, `'error'`: the
 * `InvalidClientError` (with its reason and challenge) goes to the router's JSON error handler
 * through `error()`, as every other token error does. On an app's own passport, `'fail'`: the
 * strategy calls `fail()`, so passport can try the next strategy in the chain and answer 401
 * itself (or hand the failure to the app's callback).
 */
type FailureMode = 'error' | 'fail'

interface StrategySettings {
  verify: Verify
  realm: string
  failures: FailureMode
  emit: EventEmitter
}

/**
 * `client_secret_basic` on passport-http's `BasicStrategy`: passport-http parses the header and
 * makes the challenge; the verify callback adds what passport-http lacks (RFC 6749 Appendix B
 * decoding, see {@link decodeClientCredentials}) and checks the secret.
 *
 * @see RFC 6749 §2.3.1
 */
class ClientSecretBasicStrategy extends BasicStrategy {
  override name: string = BASIC_STRATEGY
  // Plain fields, not #private: passport runs each request on Object.create(strategy), and a
  // private field cannot be read through the prototype chain.
  private readonly challenge: string
  private readonly emit: EventEmitter

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

/** Whether the checked header decodes to UTF-8 `user-id:password`, both non-empty. */
function holdsUserPass(header: string): boolean {
  const bytes = Buffer.from(header.slice(header.indexOf(' ') + 1), 'base64')
  const colon = bytes.indexOf(COLON)
  return colon > 0 && colon < bytes.length - 1 && isUtf8(bytes)
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
class ClientSecretPostStrategy extends Strategy {
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

function bodyField(body: unknown, name: string): unknown {
  if (typeof body !== 'object' || body === null || !Object.hasOwn(body, name)) return undefined
  return (body as Record<string, unknown>)[name]
}

const CLIENT_PROPERTY = 'ccflowClient'
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({})

/**
 * What our strategies get from passport as their `req`: one object per authentication attempt,
 * holding the real request. passport 0.7's authenticate middleware decorates the object it is
 * given (`login`, `logout`, `isAuthenticated`, `_sessionManager`, …) and puts the authenticated
 * client on it (`assignProperty`); handing it this object instead of the request means our
 * private instance never touches the app's request, its session manager or its login helpers,
 * with nothing to save and put back (deleting those fields again on every request also turned
 * each request object into a slow dictionary-mode object).
 *
 * passport-http's `BasicStrategy` reads `req.headers.authorization`, so the attempt carries the
 * checked header there (the request's own headers object when it is already in the form
 * passport-http parses).
 *
 * @internal
 */
class AuthenticationAttempt {
  /** Set by passport on success (`assignProperty`). */
  ccflowClient: Client | undefined = undefined
  /** The request being authenticated. */
  readonly request: Request
  /** What passport-http reads: `authorization` is `Basic <token>` with one space. */
  readonly headers: Readonly<{ authorization?: string | undefined }>

  constructor(request: Request, authorization: string | undefined) {
    this.request = request
    this.headers =
      authorization === undefined
        ? NO_HEADERS
        : authorization === request.headers.authorization
          ? request.headers
          : { authorization }
  }
}

/** The request a strategy was handed, directly or inside an {@link AuthenticationAttempt}. */
function requestOf(passed: Request): Request {
  return passed instanceof AuthenticationAttempt ? passed.request : passed
}

/**
 * The verify step shared by both strategies, inside the token endpoint and on an app's passport:
 * records the method and client id on the token request (when there is one), checks a body
 * `client_id` against the Basic client, checks the secret, and reports a refusal to `onEvent`.
 */
function createVerify(
  config: Pick<TokenEndpointConfig, 'clients' | 'secretPepper' | 'hookTimeout'>,
  emit: EventEmitter,
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

function reject(
  emit: EventEmitter,
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
  const verify = createVerify(config, emit, challenge)
  const settings: StrategySettings = { verify, realm: config.realm, failures: 'error', emit }

  const authenticator = new passport.Passport()
  authenticator.use(new ClientSecretBasicStrategy(settings))
  authenticator.use(new ClientSecretPostStrategy(settings))
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
      if (values?.has('client_secret') === true) {
        next(
          new InvalidRequestError('The request uses more than one client authentication method.', {
            reason: 'multiple_auth_methods',
          }),
        )
        return
      }
      if (state !== undefined) state.method = 'client_secret_basic'
      authorization = checkBasicHeader(header)
      if (authorization === undefined) {
        next(reject(emit, req, challenge, 'malformed_credentials', 'client_secret_basic'))
        return
      }
      run = basic
    } else if (values?.has('client_secret') === true || values?.has('client_id') === true) {
      run = post
    } else {
      next(reject(emit, req, challenge, 'no_credentials'))
      return
    }
    const attempt = new AuthenticationAttempt(req, authorization)
    run(attempt as unknown as Request, res, (err?: unknown) => {
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
    })
  }
}

/** passport's `failWithError` error (passport/lib/errors/authenticationerror.js). */
function isPassportFailure(err: unknown): boolean {
  return err instanceof Error && err.name === 'AuthenticationError'
}

/**
 * Options of {@link clientSecretBasicStrategy} and {@link clientSecretPostStrategy}. Checked
 * once, when the strategy is created. One object can configure both.
 */
export interface ClientSecretStrategyOptions {
  /** Where client records come from. */
  clients: ClientStore
  /**
   * The HMAC key for `hmac-sha256` secret hashes, at least 32 bytes. Must match the pepper the
   * hashes were made with.
   * @default undefined (the built-in domain-separation key)
   */
  secretPepper?: string
  /**
   * The realm of the `WWW-Authenticate: Basic` challenge (visible ASCII, no `"` or `\`). The
   * post strategy makes no challenge and ignores it.
   * @default 'ccflow'
   */
  realm?: string
  /**
   * Milliseconds to wait for `clients.findClient`; past it the strategy calls `error()` with a
   * 503 `temporarily_unavailable` {@link TokenError}.
   * @default 5000
   */
  hookTimeout?: number
  /**
   * Receives an `authentication_failed` event, with its reason, for each refused client. Called
   * synchronously, never awaited; a throw or a rejected promise is swallowed.
   * @default undefined
   */
  onEvent?: (event: IssuerEvent) => void
}

/** A passport strategy, ready for `passport.use()`. */
export interface ClientSecretStrategy extends passport.Strategy {
  /** The name to give `passport.authenticate()`. */
  readonly name: string
}

const STRATEGY_OPTION_KEYS: ReadonlySet<string> = new Set([
  'clients',
  'secretPepper',
  'realm',
  'hookTimeout',
  'onEvent',
])

interface StrategyConfig {
  clients: ClientStore
  secretPepper: string | undefined
  realm: string
  hookTimeout: number
  emit: EventEmitter
}

function resolveStrategyOptions(
  options: ClientSecretStrategyOptions,
  where: string,
): StrategyConfig {
  const fail = (name: string, message: string): never => {
    throw new TypeError(`${where}: option "${name}" ${message}`)
  }
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`${where}: options must be an object`)
  }
  for (const key of Object.keys(options)) {
    if (!STRATEGY_OPTION_KEYS.has(key)) throw new TypeError(`${where}: unknown option "${key}"`)
  }
  const { clients, secretPepper, realm, hookTimeout, onEvent } = options as unknown as Partial<
    Record<string, unknown>
  >
  if (
    typeof clients !== 'object' ||
    clients === null ||
    typeof (clients as { findClient?: unknown }).findClient !== 'function'
  ) {
    fail('clients', 'is required and must be a ClientStore (an object with findClient(id))')
  }
  let pepper: string | undefined
  try {
    pepper = checkPepper(secretPepper, where)
  } catch {
    fail('secretPepper', 'must be a string of at least 32 bytes')
  }
  if (realm !== undefined && (typeof realm !== 'string' || !REALM.test(realm))) {
    fail('realm', "must be 1-64 visible ASCII characters without '\"' or '\\'")
  }
  if (
    hookTimeout !== undefined &&
    (typeof hookTimeout !== 'number' ||
      !Number.isInteger(hookTimeout) ||
      hookTimeout < 1 ||
      hookTimeout > 60_000)
  ) {
    fail('hookTimeout', 'must be an integer from 1 to 60000')
  }
  if (onEvent !== undefined && typeof onEvent !== 'function') fail('onEvent', 'must be a function')
  return {
    clients: clients as ClientStore,
    secretPepper: pepper,
    realm: (realm as string | undefined) ?? 'ccflow',
    hookTimeout: (hookTimeout as number | undefined) ?? DEFAULT_HOOK_TIMEOUT_MS,
    emit: createEmitter(onEvent as ((event: IssuerEvent) => void) | undefined),
  }
}

function strategySettings(options: ClientSecretStrategyOptions, where: string): StrategySettings {
  const config = resolveStrategyOptions(options, where)
  const challenge = Object.freeze({ 'WWW-Authenticate': `Basic realm="${config.realm}"` })
  return {
    verify: createVerify(config, config.emit, challenge),
    realm: config.realm,
    failures: 'fail',
    emit: config.emit,
  }
}

/**
 * `client_secret_basic` as a passport strategy named `'ccflow-client-secret-basic'`, for an app
 * that runs its own passport beside (or instead of) {@link tokenEndpoint}, the way oauth2orize
 * apps do. passport-http's `BasicStrategy` parses the header and makes the
 * `Basic realm="…"` challenge; the verify step decodes the id and secret per RFC 6749
 * Appendix B and checks them against `clients`, exactly as the token endpoint does.
 *
 * The authenticated {@link Client} becomes passport's user (`req.user`, or the property named by
 * `assignProperty`). A missing, malformed or refused header calls `fail()` with the challenge,
 * so passport tries the next strategy or answers 401 `WWW-Authenticate: Basic realm="…"`; a
 * store failure or timeout calls `error()`.
 *
 * passport-http splits the header on every `:`, so a client must form-encode its id and secret
 * before Base64 (RFC 6749 §2.3.1); a raw `:` in a secret fails authentication.
 *
 * @example
 * ```ts
 * const options = { clients: jsonFileClientStore('clients.json') }
 * passport.use(clientSecretBasicStrategy(options))
 * passport.use(clientSecretPostStrategy(options))
 * app.post('/oauth/token', express.urlencoded({ extended: false }),
 *   passport.authenticate(['ccflow-client-secret-basic', 'ccflow-client-secret-post'], { session: false }),
 *   (req, res) => { ... }) // req.user is the Client
 * ```
 * @throws {TypeError} When an option is unknown or invalid; the message names the option.
 * @see RFC 6749 §2.3.1, RFC 7617
 */
export function clientSecretBasicStrategy(
  options: ClientSecretStrategyOptions,
): ClientSecretStrategy {
  return new ClientSecretBasicStrategy(strategySettings(options, 'clientSecretBasicStrategy'))
}

/**
 * `client_secret_post` as a passport strategy named `'ccflow-client-secret-post'`: the client
 * id and secret come from the form body (`req.body.client_id`, `req.body.client_secret`, so
 * mount `express.urlencoded()` first). The authenticated {@link Client} becomes passport's user.
 * A body without either parameter, or with refused credentials, calls `fail(401)`, so passport
 * tries the next strategy or answers 401; a store failure or timeout calls `error()`.
 *
 * Unlike {@link tokenEndpoint}, a passport chain does not refuse a request that uses both
 * methods (RFC 6749 §2.3): the first strategy that succeeds wins.
 *
 * @example
 * ```ts
 * passport.use(clientSecretPostStrategy({ clients: staticClientStore(clients) }))
 * ```
 * @throws {TypeError} When an option is unknown or invalid; the message names the option.
 * @see RFC 6749 §2.3.1
 */
export function clientSecretPostStrategy(
  options: ClientSecretStrategyOptions,
): ClientSecretStrategy {
  return new ClientSecretPostStrategy(strategySettings(options, 'clientSecretPostStrategy'))
}
