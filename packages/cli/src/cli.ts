import { writeFile } from 'node:fs/promises'
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import {
  generateClientSecret,
  generateSigningKey,
  hashClientSecret,
  type SecretHashAlgorithm,
  DEFAULT_SIGNING_ALGORITHM,
} from '@ccflow/issuer'
import { CliFailure } from './cli-failure.js'
import type { CliIo } from './cli-io.js'
import { parseClientId } from './client-arguments.js'
import { addClientCommands } from './client-commands.js'
import { printable } from './client-view.js'
import { addDbCommands } from './db-commands.js'
import { withChoices } from './option-choices.js'
import { readBounded } from './read-bounded.js'
import {
  CLIENT_KEY_ALGORITHMS,
  DEFAULT_CLIENT_KEY_ALGORITHM,
  generateClientKey,
  type ClientKeyAlgorithm,
} from './generate-client-key.js'
import { readClientKey, type ClientKey } from './read-client-key.js'
import {
  CLIENT_ASSERTION_TYPE,
  createClientAssertion,
  DEFAULT_ASSERTION_LIFETIME_SECONDS,
  MAX_ASSERTION_LIFETIME_SECONDS,
} from './create-client-assertion.js'

export type { CliIo } from './cli-io.js'

const MAX_STDIN_BYTES = 64 * 1024
const TOKEN_REQUEST_TIMEOUT_MS = 10_000

/**
 * Runs the `ccflow` operator CLI and resolves with its exit code: 0 on success, 1 when the
 * command failed, 2 on a usage error.
 *
 * Secrets are never taken from the command line (they would land in shell history and `ps`):
 * `hash` and `token` read them from standard input or the environment. Private keys are read
 * from files (`--key`) and written to new files of mode 0600 (`--out`).
 *
 * @example
 * ```sh
 * ccflow secret                       # a record's secrets entry { id, hash } and the secret
 * ccflow keygen --alg ES256 --out signing-keys.json
 * CCFLOW_CLIENT_SECRET=... ccflow token --issuer http://127.0.0.1:4000 --client-id reporter
 * ccflow keygen --client --out billing.jwk   # prints the public JWK Set for the client record
 * ccflow assertion --key billing.jwk --client-id billing --issuer https://auth.internal
 * ccflow token --issuer https://auth.internal --client-id billing --key billing.jwk
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc7523 (JWT client assertions, private_key_jwt)
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const program = buildProgram(io)
  try {
    await program.parseAsync(argv, { from: 'user' })
    return 0
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return err.exitCode === 0 ? 0 : 2
    }
    const message = err instanceof Error ? err.message : String(err)
    io.stderr.write(`ccflow: ${message}\n`)
    return 1
  }
}

function buildProgram(io: CliIo): Command {
  const program = new Command('ccflow')
    .description('Operator tools for @ccflow/issuer: client secrets, signing keys, test tokens.')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => void io.stdout.write(text),
      writeErr: (text) => void io.stderr.write(text),
      outputError: (text, write) => {
        write(oneLineError(text))
      },
    })
    .showHelpAfterError('(run with --help for usage)')

  program
    .command('secret')
    .description(
      'Generate a new client secret: print the entry for the client record\'s "secrets" array ' +
        '({ "id", "hash" }), then the secret itself, shown once.',
    )
    .option('--id <secretId>', 'secret id (the public prefix, [A-Za-z0-9-], up to 32)')
    .addOption(hashAlgorithmOption('hmac-sha256'))
    .addOption(hashAlgorithmAlias())
    .option('--json', 'print one JSON object instead of labelled lines')
    .action(async (given: HashAlgorithmOptions & { id?: string; json?: boolean }) => {
      const options = { ...given, algorithm: hashAlgorithm(given) ?? 'hmac-sha256' }
      let generated: { secretId: string; secret: string }
      try {
        generated = generateClientSecret(options.id === undefined ? {} : { secretId: options.id })
      } catch (err) {
        throw new CliFailure(err instanceof Error ? err.message : 'could not generate a secret')
      }
      const hash = await hashClientSecret(generated.secret, hashOptions(options.algorithm, io))
      // The client record's `secrets` entry, ready to paste: the record format has no other place
      // for a hash.
      const entry = { id: generated.secretId, hash }
      if (options.json === true) {
        io.stdout.write(`${JSON.stringify({ secret: entry, client_secret: generated.secret })}\n`)
        return
      }
      io.stdout.write(
        `secrets entry  ${JSON.stringify(entry)}\n` +
          `client_secret  ${generated.secret}\n` +
          '\nAdd the entry to the client record\'s "secrets" array: "secrets": [{ "id": …, "hash": … }].\n' +
          'The secret is shown once: hand it to the client now; only its hash is stored.\n',
      )
    })

  program
    .command('hash')
    .description(
      'Read a client secret on standard input and print its stored hash (hmac-sha256 for ' +
        'secrets made by `ccflow secret`, scrypt for any other, unless --alg says otherwise).',
    )
    .addOption(hashAlgorithmOption(undefined))
    .addOption(hashAlgorithmAlias())
    .action(async (options: HashAlgorithmOptions) => {
      const secret = await readSecret(io)
      if (secret.includes(':')) io.stderr.write(COLON_WARNING)
      io.stdout.write(
        `${await hashClientSecret(secret, hashOptions(hashAlgorithm(options), io))}\n`,
      )
    })

  program
    .command('keygen')
    .description(
      'Generate a signing key: a private JWKS for SIGNING_KEYS_FILE and the public JWKS. With ' +
        '--client, a client key for private_key_jwt: the private JWK for the client and the ' +
        "public JWK Set for the client record's jwks.",
    )
    .option('--client', 'generate a client key for private_key_jwt (RFC 7523)')
    .addOption(
      withChoices(
        new Option(
          '--alg <alg>',
          `algorithm (default: ${DEFAULT_SIGNING_ALGORITHM}, or ${DEFAULT_CLIENT_KEY_ALGORITHM} ` +
            'with --client; EdDSA only with --client)',
        ),
        [...new Set([...SIGNING_KEY_ALGORITHMS, ...CLIENT_KEY_ALGORITHMS])],
      ),
    )
    .option('--kid <kid>', 'key id (default: the RFC 7638 thumbprint of the public key)')
    .option(
      '--out <file>',
      'write the private key to this new file (mode 0600) and print only the public JWKS',
    )
    .action(async (options: KeygenOptions, command: Command) => {
      const generated =
        options.client === true ? clientKeygen(options) : signingKeygen(options, command)
      if (options.out === undefined) {
        const both = { private: generated.privateKey, public: generated.publicJwks }
        io.stdout.write(`${JSON.stringify(both, null, 2)}\n`)
        return
      }
      await writeNewFile(options.out, `${JSON.stringify(generated.privateKey, null, 2)}\n`)
      io.stdout.write(`${JSON.stringify(generated.publicJwks, null, 2)}\n`)
      io.stderr.write(`${generated.written} written to ${options.out}\n`)
    })

  program
    .command('assertion')
    .description(
      'Print a fresh private_key_jwt client assertion (RFC 7523), signed with the client key in ' +
        'FILE, for client_assertion in a token request made with curl. aud is the issuer exactly ' +
        'as given; every run makes a new jti.',
    )
    .requiredOption(
      '--key <file>',
      'the private JWK, JWK Set with one private key, or PEM private key of the client',
    )
    .requiredOption('--client-id <id>', 'client id (iss and sub)', parseClientId)
    .requiredOption(
      '--issuer <url>',
      'issuer identifier (aud), exactly as the server names it in its metadata',
      parseIssuer,
    )
    .addOption(
      new Option(
        '--lifetime <seconds>',
        `seconds until exp (1 to ${MAX_ASSERTION_LIFETIME_SECONDS})`,
      )
        .argParser(parseLifetime)
        .default(DEFAULT_ASSERTION_LIFETIME_SECONDS),
    )
    .action(async (options: AssertionCommandOptions) => {
      if (options.issuer.endsWith('/')) io.stderr.write(TRAILING_SLASH_WARNING)
      const clientKey = await readClientKey(options.key)
      const assertion = createClientAssertion(clientKey, {
        clientId: options.clientId,
        audience: options.issuer,
        lifetimeSeconds: options.lifetime,
      })
      io.stdout.write(`${assertion}\n`)
    })

  program
    .command('token')
    .description(
      'Fetch an access token through metadata discovery, for debugging. The client secret comes ' +
        'from CCFLOW_CLIENT_SECRET or standard input, never from the command line; with --key ' +
        'the client authenticates with a private_key_jwt assertion instead, and no secret is read.',
    )
    .requiredOption(
      '--issuer <url>',
      'issuer URL (its RFC 8414 metadata gives the token endpoint)',
      parseUrl,
    )
    .requiredOption('--client-id <id>', 'client id', parseClientId)
    .option('--scope <scope>', 'space-delimited scopes to request')
    .option('--resource <uri...>', 'RFC 8707 resource indicator(s)')
    .addOption(
      withChoices(
        new Option(
          '--auth <method>',
          'client authentication method (default: client_secret_basic, or private_key_jwt with --key)',
        ),
        CLIENT_AUTH_METHODS,
      ),
    )
    .option(
      '--key <file>',
      "private_key_jwt: the client's private key, read as `ccflow assertion --key` reads it",
    )
    .action(async (options: TokenCommandOptions, command: Command) => {
      const credentials = await clientCredentials(options, command, io)
      const response = await fetchToken(options, credentials)
      io.stdout.write(`${JSON.stringify(response, null, 2)}\n`)
    })

  addClientCommands(program, io)
  addDbCommands(program, io)
  return program
}

const SIGNING_KEY_ALGORITHMS = ['RS256', 'PS256', 'ES256'] as const

interface KeygenOptions {
  client?: true
  alg?: (typeof SIGNING_KEY_ALGORITHMS)[number] | ClientKeyAlgorithm
  kid?: string
  out?: string
}

/** What `keygen` prints or writes: the private key document and the public JWK Set. */
interface GeneratedKey {
  privateKey: object
  publicJwks: object
  /** Names the private document on standard error once it is written. */
  written: string
}

function signingKeygen(options: KeygenOptions, command: Command): GeneratedKey {
  const alg = options.alg ?? DEFAULT_SIGNING_ALGORITHM
  if (alg === 'EdDSA') {
    // The issuer signs access tokens with RS256, PS256 or ES256 (the guard verifies with
    // jsonwebtoken, which has no EdDSA); EdDSA is for client assertions only.
    command.error(
      'error: --alg EdDSA is for client keys: add --client, or choose RS256, PS256 or ES256',
      {
        exitCode: 2,
      },
    )
  }
  let key: ReturnType<typeof generateSigningKey>
  try {
    key = generateSigningKey(alg, options.kid === undefined ? {} : { kid: options.kid })
  } catch (err) {
    throw new CliFailure(err instanceof Error ? err.message : 'could not generate a key')
  }
  return {
    privateKey: { keys: [{ ...key.privateJwk, kid: key.kid, alg: key.alg }] },
    publicJwks: { keys: [{ ...key.publicJwk, kid: key.kid, alg: key.alg, use: 'sig' }] },
    written: 'private JWKS',
  }
}

function clientKeygen(options: KeygenOptions): GeneratedKey {
  const pair = generateClientKey(options.alg ?? DEFAULT_CLIENT_KEY_ALGORITHM, options.kid)
  return {
    privateKey: pair.privateJwk,
    publicJwks: pair.publicJwks,
    written: 'private JWK',
  }
}

/** Writes a new file readable by its owner only; never replaces an existing one. */
async function writeNewFile(file: string, text: string): Promise<void> {
  try {
    await writeFile(file, text, { mode: 0o600, flag: 'wx' })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new CliFailure(
      code === 'EEXIST'
        ? `${file} already exists; choose another file (keys are never overwritten)`
        : `cannot write ${file} (${code ?? 'error'})`,
    )
  }
}

interface AssertionCommandOptions {
  key: string
  clientId: string
  issuer: string
  lifetime: number
}

// Issuer identifiers compare as strings (RFC 8414 §3.3), and so does aud with the issuer.
const TRAILING_SLASH_WARNING =
  'ccflow: warning: the issuer ends in "/"; aud must equal the issuer identifier character for ' +
  'character, so the token endpoint refuses this assertion unless its issuer ends in "/" too\n'

const CLIENT_AUTH_METHODS = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
] as const

interface TokenCommandOptions {
  issuer: URL
  clientId: string
  scope?: string
  resource?: string[]
  auth?: (typeof CLIENT_AUTH_METHODS)[number]
  key?: string
}

/** How `token` authenticates the client: a secret, or a key that signs a fresh assertion. */
type ClientCredentials =
  | { method: 'client_secret_basic' | 'client_secret_post'; secret: string }
  | { method: 'private_key_jwt'; key: ClientKey }

/**
 * `--key` chooses private_key_jwt when `--auth` is not given (a key file can mean nothing
 * else); `--key` with a secret method, or private_key_jwt without a key, is a usage error. The
 * key is read before any request is sent, and a key client never reads a secret.
 */
async function clientCredentials(
  options: TokenCommandOptions,
  command: Command,
  io: CliIo,
): Promise<ClientCredentials> {
  const method =
    options.auth ?? (options.key === undefined ? 'client_secret_basic' : 'private_key_jwt')
  if (method === 'private_key_jwt') {
    if (options.key === undefined) {
      command.error("error: --auth private_key_jwt needs --key <file>, the client's private key", {
        exitCode: 2,
      })
    }
    return { method, key: await readClientKey(options.key) }
  }
  if (options.key !== undefined) {
    command.error(`error: --key is for --auth private_key_jwt; ${method} uses a secret`, {
      exitCode: 2,
    })
  }
  return { method, secret: io.env.CCFLOW_CLIENT_SECRET ?? (await readSecret(io)) }
}

const HASH_ALGORITHMS: readonly SecretHashAlgorithm[] = ['hmac-sha256', 'scrypt']

/** `--alg` and its older spelling `--algorithm` (hidden), as commander hands them over. */
interface HashAlgorithmOptions {
  alg?: SecretHashAlgorithm
  algorithm?: SecretHashAlgorithm
}

// `--alg` is the one spelling of every command (keygen signs with it, secret and hash hash with
// it); `--algorithm`, the first spelling of secret and hash, stays as a hidden alias.
function hashAlgorithmOption(defaultAlgorithm: SecretHashAlgorithm | undefined): Option {
  return withChoices(
    new Option(
      '--alg <alg>',
      'hash: hmac-sha256 for generated secrets, scrypt for human-chosen ones' +
        (defaultAlgorithm === undefined ? '' : ` (default: ${defaultAlgorithm})`),
    ),
    HASH_ALGORITHMS,
  ).conflicts('algorithm')
}

function hashAlgorithmAlias(): Option {
  return withChoices(new Option('--algorithm <alg>'), HASH_ALGORITHMS).hideHelp()
}

function hashAlgorithm(options: HashAlgorithmOptions): SecretHashAlgorithm | undefined {
  return options.alg ?? options.algorithm
}

/**
 * Commander's usage errors in the one format of every ccflow message: `ccflow: <problem>` on
 * one line, its "Did you mean" hint on that line too, control characters escaped.
 */
function oneLineError(text: string): string {
  const line = text
    .replace(/^error: /, 'ccflow: ')
    .replace(/\n\(Did you mean (.+)\?\)/, ' (did you mean $1?)')
    .replace(/\n$/, '')
  // Commander quotes the refused argument, which may hold a newline or a terminal escape.
  return `${printable(line)}\n`
}

/** Without an algorithm, hashClientSecret picks scrypt for anything that is not a generated secret. */
function hashOptions(
  algorithm: SecretHashAlgorithm | undefined,
  io: CliIo,
): { algorithm?: SecretHashAlgorithm; pepper?: string } {
  const pepper = io.env.CCFLOW_SECRET_PEPPER
  return {
    ...(algorithm === undefined ? {} : { algorithm }),
    ...(pepper === undefined || pepper === '' ? {} : { pepper }),
  }
}

function parseUrl(value: string): URL {
  try {
    const url = new URL(value)
    if (url.protocol === 'https:' || url.protocol === 'http:') return url
  } catch {
    // fall through to the usage error
  }
  throw new InvalidArgumentError('expected an http(s) URL')
}

/** An issuer identifier, kept exactly as typed: it becomes `aud`, compared as a string. */
function parseIssuer(value: string): string {
  parseUrl(value)
  if (/[?#]/.test(value)) {
    throw new InvalidArgumentError('an issuer identifier has no query or fragment (RFC 8414 §2)')
  }
  return value
}

function parseLifetime(value: string): number {
  const seconds = /^[0-9]{1,4}$/.test(value) ? Number(value) : Number.NaN
  if (seconds >= 1 && seconds <= MAX_ASSERTION_LIFETIME_SECONDS) return seconds
  throw new InvalidArgumentError(
    `expected whole seconds from 1 to ${MAX_ASSERTION_LIFETIME_SECONDS}`,
  )
}

// The token endpoint reads client_secret_basic with passport-http, which splits the decoded
// header on every ':' (jaredhanson/passport-http#20): a client that does not form-encode its
// secret (RFC 6749 §2.3.1) presents only the text before the colon and is refused.
const COLON_WARNING =
  'ccflow: warning: the secret holds ":"; clients must form-encode it (":" as %3A) before ' +
  'Base64 in HTTP Basic, as RFC 6749 §2.3.1 requires, or use client_secret_post; ' +
  '`ccflow secret` makes secrets without ":"\n'

/** Reads a secret from standard input: one line, at most 64 KiB, trailing newline dropped. */
async function readSecret(io: CliIo): Promise<string> {
  const input = await readBounded(
    io.stdin,
    MAX_STDIN_BYTES,
    'the secret on standard input is too long',
  )
  const secret = input.toString('utf8').replace(/\r?\n$/, '')
  if (secret === '') throw new CliFailure('no secret on standard input')
  if (/[\r\n]/.test(secret)) throw new CliFailure('the secret on standard input must be one line')
  return secret
}

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined for Basic. */
function formEncode(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, '+')
}

async function getJson(
  url: URL | string,
  init: RequestInit,
  what: string,
): Promise<{ status: number; body: unknown }> {
  let response: Response
  try {
    response = await fetch(url, {
      ...init,
      redirect: 'error',
      signal: AbortSignal.timeout(TOKEN_REQUEST_TIMEOUT_MS),
    })
  } catch (err) {
    const reason = err instanceof Error && err.name === 'TimeoutError' ? 'timed out' : 'failed'
    throw new CliFailure(`${what} request to ${String(url)} ${reason}`)
  }
  const text = await response.text()
  try {
    return { status: response.status, body: JSON.parse(text) as unknown }
  } catch {
    // An error page (an HTML 404, say) is still an answer; a 2xx without JSON is not.
    if (response.status >= 400) return { status: response.status, body: undefined }
    throw new CliFailure(`${what} at ${String(url)} answered ${response.status} without JSON`)
  }
}

async function fetchToken(
  options: TokenCommandOptions,
  credentials: ClientCredentials,
): Promise<unknown> {
  const issuer = options.issuer.href.replace(/\/$/, '')
  const path = options.issuer.pathname === '/' ? '' : options.issuer.pathname.replace(/\/$/, '')
  // RFC 8414 §3.1 puts the well-known segment between the host and the issuer's path; a router
  // mounted at the issuer's path serves it appended instead. Ask the second only after a 4xx.
  const candidates = [new URL(`/.well-known/oauth-authorization-server${path}`, options.issuer)]
  if (path !== '') candidates.push(new URL(`${issuer}/.well-known/oauth-authorization-server`))
  let metadata: { status: number; body: unknown } = { status: 404, body: {} }
  let metadataUrl = candidates[0] as URL
  for (const candidate of candidates) {
    metadataUrl = candidate
    metadata = await getJson(candidate, {}, 'metadata')
    if (metadata.status < 400 || metadata.status >= 500) break
  }
  const fields = (metadata.body ?? {}) as { issuer?: unknown; token_endpoint?: unknown }
  if (metadata.status !== 200 || typeof fields.token_endpoint !== 'string') {
    throw new CliFailure(`no usable metadata at ${metadataUrl.href} (status ${metadata.status})`)
  }
  if (fields.issuer !== issuer) {
    // RFC 8414 §3.3: the metadata must name the issuer it was fetched for.
    throw new CliFailure(`metadata at ${metadataUrl.href} names another issuer`)
  }

  const form = new URLSearchParams({ grant_type: 'client_credentials' })
  if (options.scope !== undefined) form.set('scope', options.scope)
  for (const resource of options.resource ?? []) form.append('resource', resource)
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }
  switch (credentials.method) {
    case 'client_secret_basic': {
      const pair = `${formEncode(options.clientId)}:${formEncode(credentials.secret)}`
      headers.authorization = `Basic ${Buffer.from(pair).toString('base64')}`
      break
    }
    case 'client_secret_post':
      form.set('client_id', options.clientId)
      form.set('client_secret', credentials.secret)
      break
    case 'private_key_jwt':
      form.set('client_id', options.clientId)
      form.set('client_assertion_type', CLIENT_ASSERTION_TYPE)
      // aud is the issuer identifier as the metadata names it (checked equal to `issuer` above),
      // not the token endpoint URL; signed now, so that it is fresh for this one request.
      form.set(
        'client_assertion',
        createClientAssertion(credentials.key, {
          clientId: options.clientId,
          audience: issuer,
          lifetimeSeconds: DEFAULT_ASSERTION_LIFETIME_SECONDS,
        }),
      )
      break
  }
  const answer = await getJson(
    fields.token_endpoint,
    { method: 'POST', headers, body: form },
    'token',
  )
  if (answer.status !== 200) {
    const error = ((answer.body ?? {}) as { error?: unknown }).error
    // Print the server's error code only when it has the RFC 6749 §5.2 shape, never free text.
    const code =
      typeof error === 'string' && /^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,64}$/.test(error)
        ? ` ${error}`
        : ''
    throw new CliFailure(`token endpoint answered ${answer.status}${code}`)
  }
  return answer.body
}
