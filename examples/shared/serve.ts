/**
 * What every example server does the same way: bind, log one line per request, shut down
 * gracefully on SIGINT/SIGTERM, and turn startup errors into one line and exit code 1.
 */
import { createServer, type RequestListener, type Server } from 'node:http'
import { originOf } from './env.js'

/** A bound server. */
export interface Served {
  server: Server
  /** `http://host:port` with the port actually bound (useful with PORT=0). */
  url: string
  /** Stops accepting connections and resolves once in-flight requests have finished. */
  close(): Promise<void>
}

/** How long a shutdown waits for slow requests before it cuts their connections. */
const SHUTDOWN_GRACE_MS = 10_000

/**
 * Binds `host:port`, then installs the handler built for the bound URL (so an issuer can default
 * to the real port when PORT=0). Logs `METHOD /path STATUS MSms` per finished request: never the
 * query string, headers or body, which may carry credentials.
 */
export async function listen(
  host: string,
  port: number,
  build: (url: string) => RequestListener,
  log: (line: string) => void = (line) => console.log(line),
): Promise<Served> {
  const state: { handler?: RequestListener } = {}
  let closing = false
  const server = createServer((req, res) => {
    const started = performance.now()
    // Read now: Express rewrites req.url inside mounted routers (app.use('/oauth', ...)).
    const path = (req.url ?? '/').split('?')[0]?.replace(/[^\x21-\x7e]/g, '?') ?? '/'
    res.once('finish', () => {
      const ms = Math.round(performance.now() - started)
      log(`${req.method ?? '-'} ${path} ${res.statusCode} ${ms}ms`)
      // A keep-alive connection that just finished its last request is idle now: let it go.
      if (closing) setImmediate(() => server.closeIdleConnections())
    })
    if (state.handler) state.handler(req, res)
    else res.writeHead(503).end()
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
 * Closes the servers on the first SIGINT or SIGTERM and exits 0 once in-flight requests are done;
 * a second signal exits 1 at once.
 */
export function closeOnSignal(program: string, ...served: Served[]): void {
  let stopping = false
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      console.error(`${program}: ${signal} again, exiting now`)
      process.exit(1)
    }
    stopping = true
    console.log(`${program}: ${signal} received, finishing in-flight requests`)
    Promise.all(served.map((s) => s.close())).then(
      () => process.exit(0),
      (err: unknown) => fail(program, err),
    )
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
}

/** Prints `program: message` as one line on stderr and exits 1. */
export function fail(program: string, err: unknown): never {
  const message = err instanceof Error ? err.message : String(err)
  console.error(`${program}: ${message.replace(/\s*\n\s*/g, ' ')}`)
  process.exit(1)
}
