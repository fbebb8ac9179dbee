/**
 * Short human lines for the demo: the same records as the servers' JSON logs, printed through
 * pino-pretty as `    [token-server] POST /token 200 3.1ms success client_id=demo-client`.
 */
import { PinoPretty } from 'pino-pretty'
import { createLogger, type Logger, type LoggerOptions } from './log.js'

const REQUEST_FIELDS = ['method', 'route', 'status'] as const

/** One record as a short line: a request's method, path, status, time, outcome and client. */
export function formatRecord(log: Record<string, unknown>): string {
  const text = (value: unknown): string =>
    typeof value === 'string' || typeof value === 'number' ? String(value) : ''
  // The level is a word (see createLogger); info, the usual one, is not printed.
  const level = log.level === 'info' ? '' : `${text(log.level).toUpperCase()} `
  const tag = `    [${text(log.program)}] ${level}`
  if (log.msg !== 'request') return `${tag}${text(log.msg)}`
  const parts = REQUEST_FIELDS.map((field) => text(log[field]))
  parts.push(`${text(log.duration_ms)}ms`, text(log.outcome))
  if (log.reason !== undefined) parts.push(`reason=${text(log.reason)}`)
  if (log.client_id !== undefined) parts.push(`client_id=${text(log.client_id)}`)
  return `${tag}${parts.join(' ')}`
}

/** A logger for `program` that writes {@link formatRecord} lines to standard output. */
export function prettyLogger(program: string, level: LoggerOptions['level']): Logger {
  const destination = PinoPretty({
    sync: true,
    colorize: false,
    hideObject: true,
    ignore: 'pid,hostname,program,time,level',
    messageFormat: (log) => formatRecord(log),
  })
  return createLogger(program, { level, destination })
}
