import { forgetWarnings, type KeySourceFailureReason, logValue, warnOnce } from '@ccflow/core'
import type { EmitGuardEvent, GuardEvent, KeySourceEvent, TokenRejectedEvent } from '../events.js'

// What a guard without an `onEvent` hook writes to the server's log, as process warnings (the
// channel @ccflow/core and @ccflow/issuer use for setup problems: a `code` to filter on,
// `process.on('warning')` to route them, `--no-warnings` to silence them). Each distinct cause
// is written once; nothing from a request is written except the claims of a token whose
// signature was valid, quoted and cut short.

/** Code of the warning for a key source that cannot be used (JWKS or discovery). */
const KEY_SOURCE_WARNING = 'CCFLOW_GUARD_KEY_SOURCE'
/** Code of the warning for a JWKS key the guard cannot use. */
const SKIPPED_KEY_WARNING = 'CCFLOW_GUARD_JWKS_KEY_SKIPPED'
/** Code of the warning for a token refused for its `aud` or `iss` (outside production only). */
const TOKEN_MISMATCH_WARNING = 'CCFLOW_GUARD_TOKEN_MISMATCH'
/** Code of the warning for a private key given as a static verification key. */
export const PRIVATE_KEY_WARNING = 'CCFLOW_GUARD_PRIVATE_KEY'

const FAILURE: Readonly<Record<Exclude<KeySourceFailureReason, 'issuer_mismatch'>, string>> = {
  timeout: 'did not answer within jwks.timeoutMs',
  network: 'could not be reached (connection failed)',
  aborted: 'was abandoned (the guard was closed)',
  http_status: 'answered an HTTP error',
  redirect: 'redirected to another origin or too often',
  too_large: 'answered more than jwks.maxResponseBytes',
  invalid_json: 'did not answer JSON',
  invalid_shape: 'answered a document of the wrong shape',
  no_usable_keys: 'holds no key the guard can use',
}

const NO_KEYS = 'requests that need keys are answered 503 key_source_unavailable until keys load'

/**
 * The reporter used when no `onEvent` hook is set: a process warning per distinct key-source
 * failure (always), per skipped JWKS key, and, when `mismatches` is on (outside production), per
 * distinct `aud` or `iss` mismatch. A successful fetch forgets the key-source failures, so a
 * later outage is reported again.
 *
 * @param where - the factory named in the messages (`requireToken`, …).
 * @param source - the configured key source (`jwksUri`, or `issuer` with `discover`), which keys
 *   the failures a successful fetch forgets.
 */
export function defaultReport(where: string, source: string, mismatches: boolean): EmitGuardEvent {
  const prefix = `${where}\n${source}\n`
  return (event: GuardEvent): void => {
    if (event.type === 'token_rejected') {
      if (mismatches) warnMismatch(where, event)
      return
    }
    warnKeySource(where, prefix, event)
  }
}

function warnKeySource(where: string, prefix: string, event: KeySourceEvent): void {
  switch (event.type) {
    case 'jwks_fetched':
      forgetWarnings(KEY_SOURCE_WARNING, prefix)
      return
    case 'jwks_key_skipped':
      warnOnce(
        SKIPPED_KEY_WARNING,
        `${where}\n${event.uri}\n${String(event.kid)}\n${event.reason}`,
        `${where}: the JWKS at ${event.uri} has a key${event.kid === undefined ? ' without kid' : ` with kid ${logValue(event.kid)}`} that cannot be used (${event.reason}); tokens signed with it are refused as unknown_kid`,
      )
      return
    case 'jwks_fetch_failed':
      if (event.reason === 'aborted') return
      warnOnce(
        KEY_SOURCE_WARNING,
        `${prefix}${event.uri}\n${event.reason}\n${String(event.status)}`,
        `${where}: cannot load keys: the JWKS at ${event.uri} ${describe(event.reason, event.status)}; ${NO_KEYS}`,
      )
      return
    case 'discovery_failed': {
      if (event.reason === 'aborted') return
      const key = `${prefix}${event.uri}\n${event.reason}\n${String(event.status)}\n${String(event.metadataIssuer)}`
      warnOnce(KEY_SOURCE_WARNING, key, discoveryMessage(where, event))
      return
    }
  }
}

function discoveryMessage(
  where: string,
  event: Extract<KeySourceEvent, { type: 'discovery_failed' }>,
): string {
  if (event.reason !== 'issuer_mismatch') {
    const what =
      event.reason === 'invalid_shape'
        ? 'answered metadata without a usable jwks_uri'
        : describe(event.reason, event.status)
    return `${where}: cannot discover the keys of issuer ${logValue(event.issuer)}: ${event.uri} ${what}; ${NO_KEYS}`
  }
  const named =
    event.metadataIssuer === undefined
      ? 'names no issuer'
      : `names issuer ${logValue(event.metadataIssuer)}`
  const hint =
    event.metadataIssuer === undefined ? '' : differenceHint(event.issuer, event.metadataIssuer)
  return (
    `${where}: the metadata at ${event.uri} ${named}, but option "issuer" is ` +
    `${logValue(event.issuer)}${hint}; they must be equal character for character ` +
    `(RFC 8414 §3.3); ${NO_KEYS}`
  )
}

function describe(reason: KeySourceFailureReason, status: number | undefined): string {
  if (reason === 'http_status' && status !== undefined) return `answered HTTP ${status}`
  // issuer_mismatch comes only from discovery, which has its own message.
  return FAILURE[reason as Exclude<KeySourceFailureReason, 'issuer_mismatch'>]
}

function warnMismatch(where: string, event: TokenRejectedEvent): void {
  const mismatch = event.mismatch
  if (mismatch === undefined) return
  const option = mismatch.claim === 'aud' ? 'audience' : 'issuer'
  const expected = mismatch.expected.length === 1 ? mismatch.expected[0] : mismatch.expected
  const actual = logValue(mismatch.actual)
  const hint =
    typeof expected === 'string' && typeof mismatch.actual === 'string'
      ? differenceHint(expected, mismatch.actual)
      : ''
  warnOnce(
    TOKEN_MISMATCH_WARNING,
    `${where}\n${event.reason}\n${JSON.stringify(mismatch.expected)}\n${JSON.stringify(mismatch.actual)}`,
    `${where}: refused a token (401 invalid_token, ${event.reason}): its ${mismatch.claim} is ` +
      `${actual}, but option "${option}" is ${logValue(expected)}${hint} ` +
      '(logged once per value outside production; the response names no value)',
  )
}

/**
 * A short note on how two identifiers differ when the difference is easy to miss: a trailing
 * slash, or the host (`localhost` and `127.0.0.1` are different issuers).
 */
export function differenceHint(expected: string, actual: string): string {
  if (expected.replace(/\/+$/, '') === actual.replace(/\/+$/, '')) {
    return ' (they differ only in a trailing "/")'
  }
  let a: URL
  let b: URL
  try {
    a = new URL(expected)
    b = new URL(actual)
  } catch {
    return ''
  }
  if (a.host === b.host || a.protocol !== b.protocol || a.pathname !== b.pathname) return ''
  const [x, y] = a.port === b.port ? [a.hostname, b.hostname] : [a.host, b.host]
  return ` (the hosts differ: ${logValue(x)} and ${logValue(y)})`
}
