import { InvalidArgumentError } from 'commander'
import { isScopeToken } from '@ccflow/core'

// The argument parsers of the `client` commands. Each refuses a malformed value with commander's
// InvalidArgumentError, so the command stops with a usage error (exit code 2) before it opens a
// database connection. The rules are those of the client record (validateClient), stated here
// so that the message can name the flag.

/** RFC 6749 Appendix A.1: client-id = *VSCHAR (%x20-7E); the issuer's records allow 1 to 255. */
export function parseClientId(value: string): string {
  if (/^[\x20-\x7e]{1,255}$/.test(value)) return value
  throw new InvalidArgumentError('expected 1-255 printable ASCII characters')
}

/** RFC 6749 §3.3: scope tokens separated by single spaces, each once; `""` grants no scope. */
export function parseScope(value: string): string {
  if (value === '') return value
  const tokens = value.split(' ')
  if (!tokens.every((token) => isScopeToken(token))) {
    throw new InvalidArgumentError(
      `expected scope tokens separated by single spaces (RFC 6749 §3.3: printable ASCII ` +
        `without '"' or '\\')`,
    )
  }
  if (new Set(tokens).size !== tokens.length) {
    throw new InvalidArgumentError('expected each scope token once')
  }
  return value
}

/**
 * An audience (an RFC 8707 resource indicator): an absolute URI without a fragment, collected
 * into a list when the flag repeats; a repeated value is refused.
 */
export function parseAudience(value: string, previous: string[] | undefined): string[] {
  let url: URL | undefined
  try {
    url = /^[\x21-\x7e]{1,2048}$/.test(value) ? new URL(value) : undefined
  } catch {
    url = undefined
  }
  if (url === undefined || value.includes('#')) {
    throw new InvalidArgumentError(
      'expected an absolute URI without a fragment, such as https://api.example.com (RFC 8707 §2)',
    )
  }
  const list = previous ?? []
  if (list.includes(value)) throw new InvalidArgumentError('this audience is given twice')
  return [...list, value]
}

/** A secret id as `ccflow secret --id` takes it: `[A-Za-z0-9-]{1,32}`. */
export function parseSecretId(value: string): string {
  if (/^[A-Za-z0-9-]{1,32}$/.test(value)) return value
  throw new InvalidArgumentError('expected 1-32 characters of [A-Za-z0-9-]')
}

// Year 5138 in epoch seconds: anything larger is almost surely milliseconds (as validateClient).
const MAX_EPOCH_SECONDS = 1e11
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/

/**
 * When a secret expires, in epoch seconds: an ISO 8601 time with its offset
 * (`2027-03-01T12:00:00Z`), a date (midnight UTC), or epoch seconds; never in the past.
 */
export function parseExpiresAt(value: string): number {
  let seconds: number
  if (/^[0-9]{1,11}$/.test(value)) {
    seconds = Number(value)
  } else {
    const ms = ISO_TIME.test(value) ? Date.parse(value) : Number.NaN
    seconds = Math.floor(ms / 1000)
  }
  if (!(seconds >= 0 && seconds < MAX_EPOCH_SECONDS)) {
    throw new InvalidArgumentError(
      'expected an ISO 8601 time with its offset (2027-03-01T12:00:00Z), a date (2027-03-01) ' +
        'or epoch seconds (not milliseconds)',
    )
  }
  if (seconds * 1000 <= Date.now()) throw new InvalidArgumentError('this time has already passed')
  return seconds
}

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 }

/** A duration from now: a whole number with a unit, `90d`, `12h`, `30m` or `3600s` (up to 10 years). */
export function parseDuration(value: string): number {
  const match = /^([1-9][0-9]{0,6})([smhd])$/.exec(value)
  const seconds =
    match === null ? Number.NaN : Number(match[1]) * (UNIT_SECONDS[match[2] as string] as number)
  if (seconds > 0 && seconds <= 10 * 366 * 86_400) return seconds
  throw new InvalidArgumentError(
    'expected a whole number with a unit: s, m, h or d (90d, 12h), up to 10 years',
  )
}

/** An access token lifetime: whole seconds, 1 to 31 536 000 (a year). */
export function parseTtl(value: string): number {
  const seconds = /^[1-9][0-9]{0,7}$/.test(value) ? Number(value) : Number.NaN
  if (seconds <= 31_536_000) return seconds
  throw new InvalidArgumentError('expected whole seconds from 1 to 31536000')
}

/** A client's name (`--name`): 1 to 255 characters, none a control character (it prints on one line). */
export function parseName(value: string): string {
  return label(value, 255)
}

/** Who makes a change (`--actor`), for the audit trail: 1 to 200 characters, none a control character. */
export function parseActor(value: string): string {
  return label(value, 200)
}

function label(value: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  if (value.length >= 1 && value.length <= max && !/[\u0000-\u001f\u007f-\u009f]/.test(value)) {
    return value
  }
  throw new InvalidArgumentError(`expected 1-${max} characters without control characters`)
}
