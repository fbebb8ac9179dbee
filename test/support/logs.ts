/** Reading the JSON log lines (pino) of the example servers in tests. */
import { createLogger, type Logger } from '../../examples/shared/log.js'

/** One log record. */
export type LogRecord = Record<string, unknown>

/** Every line of `output` that is a JSON object, parsed; other lines are skipped. */
export function logRecords(output: string): LogRecord[] {
  const records: LogRecord[] = []
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue
    try {
      records.push(JSON.parse(line) as LogRecord)
    } catch {
      // a line cut by the end of the output so far
    }
  }
  return records
}

const ENVELOPE = new Set(['level', 'time', 'pid', 'hostname', 'program', 'msg'])

/** The `request` records of `output`, without the fields every record has. */
export function requestRecords(output: string): LogRecord[] {
  return logRecords(output)
    .filter((record) => record.msg === 'request')
    .map((record) => Object.fromEntries(Object.entries(record).filter(([k]) => !ENVELOPE.has(k))))
}

/** A logger of the examples that keeps its records in memory, for `records()`. */
export function memoryLogger(program = 'test'): { logger: Logger; records: () => LogRecord[] } {
  let text = ''
  const logger = createLogger(program, {
    level: 'trace',
    destination: {
      write(line: string) {
        text += line
      },
    },
  })
  return { logger, records: () => logRecords(text) }
}
