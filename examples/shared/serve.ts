/**
 * What every example server does the same way: bind, log one line per request, shut down
 * gracefully on SIGINT/SIGTERM, and turn startup errors into one line and exit code 1.
 */
import { createServer, type RequestListener, type Server } from 'node:http'
import { pino } from 'pino'
import { originOf } from './env.js'
import { createLogger, type Logger } from './log.js'
import { type RequestFacts, requestLine, withRequestFacts } from './request-log.js'

/** A bound server. */
export interface Served {
  server: Server
  /** `http://host:port` with the port actually bound (useful with PORT=0). */
  url: string
  /** Stops accepting connections and resolves once in-flight requests have finished. */
  close(): Promise<void>
}

/** Liveness and readiness routes, whose successful answers are logged at debug only. */
const PROBES: ReadonlySet<string> = new Set(['/health', '/ready'])

/** How long a shutdown waits for slow requests before it cuts their connections. */
const SHUTDOWN_GRACE_MS = 10_000

/**
 * Binds `host:port`, then installs the handler built for the bound URL (so an issuer can default
 * to the real port when PORT=0). Logs one `request` line per finished request on `logger` (see
 * {@link requestLine}): never the query string, headers or body, which may carry credentials.
 * A `/health` or `/ready` answered 200 is logged at `debug`, anything else at `info`. Without a
 * logger nothing is logged.
 */
export async function listen(
  host: string,
  port: number,
  build: (url: string) => RequestListener,
  logger: Logger | undefined,
): Promise<Served> {
  const state: { handler?: RequestListener } = {}
  let closing = false
  const server = createServer((req, res) => {
    const started = performance.now()
    // Read now: Express rewrites req.url inside mounted routers (app.use('/oauth', ...)).
    const path = (req.url ?? '/').split('?')[0]?.replace(/[^\x21-\x7e]/g, '?') ?? '/'
    // The issuer's and the guard's event hooks write into this record while the app answers.
    const facts: RequestFacts = {}
    res.once('finish', () => {
      const line = requestLine(req.method, path, res, performance.now() - started, facts)
      // Probes come every few seconds: logged only at debug while they answer 200.
      if (PROBES.has(path) && res.statusCode === 200) logger?.debug(line, 'request')
      else logger?.info(line, 'request')
      // A keep-alive connection that just finished its last request is idle now: let it go.
      if (closing) setImmediate(() => server.closeIdleConnections())
    })
    const handler = state.handler
    withRequestFacts(facts, () => {
      if (handler) handler(req, res)
      else res.writeHead(503).end()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRINUSE' ? 'the address is in use' : (err.code ?? err.message)
      reject(new Error(`cannot listen on ${host}:${port} (${why}); set HOST/PORT`))
    })
    server.listen(port, host, () => resolve())
  })
  const address = server.address()
  const boundPort = typeof address === 'object' && address !== null ? address.port : port
  const url = originOf(host, boundPort)
  state.handler = build(url)
  return {
    server,
    url,
    close() {
      closing = true
      return new Promise((resolve, reject) => {
        const force = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS).unref()
        server.close((err) => {
          clearTimeout(force)
          if (err) reject(err)
          else resolve()
        })
        server.closeIdleConnections()
      })
    },
  }
}

/**
 * Closes the servers on the first SIGINT or SIGTERM, then runs `finally` (flushing telemetry,
 * closing connections) and exits 0 once in-flight requests are done; a second signal exits 1
 * at once.
 */
export function closeOnSignal(
  logger: Logger,
  served: readonly Served[],
  andThen: () => Promise<void> = async () => {},
): void {
  let stopping = false
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.error({ signal }, `${signal} again, exiting now`)
      process.exit(1)
    }
    stopping = true
    logger.info({ signal }, `${signal} received, finishing in-flight requests`)
    Promise.all(served.map((s) => s.close()))
      .then(andThen)
      .then(
        () => {
          logger.info('stopped')
          process.exit(0)
        },
        (err: unknown) => fail(logger, err),
      )
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
}

/**
 * Writes the error as one `fatal` line (on standard error, through `logger` or a new logger for
 * `program`) and exits 1.
 */
export function fail(logger: Logger | string, err: unknown): never {
  const message = err instanceof Error ? err.message : String(err)
  const log =
    typeof logger === 'string'
      ? createLogger(logger, { destination: pino.destination({ dest: 2, sync: true }) })
      : logger
  log.fatal(message.replace(/\s*\n\s*/g, ' '))
  process.exit(1)
}
