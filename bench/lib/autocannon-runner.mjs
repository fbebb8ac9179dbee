// Fallback load generator (when wrk is not installed): `node autocannon-runner.mjs <config.json>`.
// It runs in its own process, pinned to the load core like wrk, and prints one BENCH_RESULT line.
import { readFileSync } from 'node:fs'
import process from 'node:process'
import autocannon from 'autocannon'

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'))
const options = {
  url: config.url,
  connections: config.connections,
  duration: config.seconds,
  method: config.method,
  headers: config.headers,
  body: config.body,
  timeout: 10,
}
const linesOf = (file) => readFileSync(file, 'utf8').split('\n').filter(Boolean)
if (config.bodiesFile) {
  // One body per line, each sent once (never-used client assertions); autocannon sets
  // Content-Length from the body.
  const bodies = linesOf(config.bodiesFile)
  let i = -1
  options.requests = [
    {
      setupRequest(req) {
        i = (i + 1) % bodies.length
        req.body = bodies[i]
        return req
      },
    },
  ]
} else if (config.tokensFile) {
  const tokens = linesOf(config.tokensFile)
  let i = 0
  options.requests = [
    {
      setupRequest(req) {
        i = (i + 1) % tokens.length
        req.headers = { ...req.headers, authorization: `Bearer ${tokens[i]}` }
        return req
      },
    },
  ]
}

const result = await autocannon(options)
const line = {
  requests: result.requests.total,
  seconds: result.duration,
  p50_ms: result.latency.p50,
  p99_ms: result.latency.p99,
  non2xx: result.non2xx,
  errors: result.errors,
  timeouts: result.timeouts,
}
process.stdout.write(`BENCH_RESULT ${JSON.stringify(line)}\n`)
