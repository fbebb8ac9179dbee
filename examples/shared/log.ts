/**
 * The structured logs of the example servers: one JSON object per line (pino), on standard
 * output, at the level `LOG_LEVEL` names. The demo prints the same records as short lines.
 */
import { pino, type DestinationStream, type Level, type Logger } from 'pino'
import { ConfigError, type Env, optional } from './env.js'

export type { Logger }

const LEVELS: readonly (Level | 'silent')[] = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
]

/** `LOG_LEVEL`: `fatal`, `error`, `warn`, `info` (default), `debug`, `trace` or `silent`. */
export function logLevel(vars: Env): Level | 'silent' {
  const value = optional(vars, 'LOG_LEVEL')?.toLowerCase()
  if (value === undefined) return 'info'
  const level = LEVELS.find((known) => known === value)
  if (level === undefined) throw new ConfigError(`LOG_LEVEL must be one of ${LEVELS.join(', ')}`)
  return level
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** The least severe level written. @default 'info' */
  level?: Level | 'silent' | undefined
  /** Where the lines go. @default standard output, written synchronously */
  destination?: DestinationStream | undefined
}

/**
 * A logger whose every line carries `program`, an ISO `time` and the level as a word
 * (`"level":"info"`), so that a log pipeline needs no pino-specific mapping.
 */
export function createLogger(program: string, options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { program },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  )
}
