import {
  ClientSecretBasicStrategy,
  ClientSecretPostStrategy,
  type StrategySettings,
} from './strategy-classes.js'
import {
  type ClientSecretStrategy,
  type ClientSecretStrategyOptions,
  resolveStrategyOptions,
} from './strategy-options.js'
import { createVerify } from './verify-client.js'

// The public factories. The strategy classes live in strategy-classes.ts so that this module's
// declarations name no passport or passport-http type: @types/passport augments every Express
// Request of an app that sees it (req.user, req.isAuthenticated), see
// test/consumer-types.test.ts.

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
  const strategy = new ClientSecretBasicStrategy(
    strategySettings(options, 'clientSecretBasicStrategy'),
  )
  // passport-http's types declare only authenticate(); success, fail, error, pass and redirect
  // are the actions passport gives every strategy at run time, which PassportStrategy declares.
  return strategy as unknown as ClientSecretStrategy
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
