// Load generation on the load core: wrk (C, one thread, Lua-scripted requests) when installed,
// autocannon otherwise. Both are bounded in time and only ever aim at 127.0.0.1.
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { LOAD_CORE, pinned, track } from './processes.js'

export type LoadGenerator = 'wrk' | 'autocannon'

export interface LoadSpec {
  method: 'GET' | 'POST'
  path: string
  headers: Record<string, string>
  body?: string
  /** One bearer token per line; each request takes the next one (cache-miss load). */
  tokensFile?: string
  /**
   * One request body per line; each request takes the next one (a never-used client assertion
   * each). After the last line the generator starts again from the first, so the file must hold
   * at least as many lines as requests will be sent.
   */
  bodiesFile?: string
}

export interface LoadResult {
  requests: number
  seconds: number
  rps: number
  p50Ms: number
  p99Ms: number
  /** Responses that were not 2xx: under load every request must succeed. */
  non2xx: number
  /** Connect, read, write errors and timeouts. */
  socketErrors: number
}

const lua = (value: string): string =>
  `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`

const WRK_DONE = `
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"p50_us":%.1f,"p99_us":%.1f,"status":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect, e.read, e.write, e.timeout))
end
`

/** Writes the wrk Lua script of a load spec into `dir` and returns its path. */
function wrkScript(dir: string, name: string, spec: LoadSpec): string {
  const headers = Object.entries(spec.headers)
    .map(([k, v]) => `wrk.headers[${lua(k)}] = ${lua(v)}`)
    .join('\n')
  let body = `wrk.method = ${lua(spec.method)}\n${headers}\n`
  if (spec.body !== undefined) body += `wrk.body = ${lua(spec.body)}\n`
  // Requests are pre-formatted once per thread (wrk's own advice for request()-heavy scripts),
  // one per line of the file, and sent in turn.
  let lines: { file: string; format: string } | undefined
  if (spec.tokensFile !== undefined) {
    lines = {
      file: spec.tokensFile,
      format: `local headers = {}
      for k, v in pairs(wrk.headers) do headers[k] = v end
      headers["Authorization"] = "Bearer " .. line
      requests[#requests + 1] = wrk.format(nil, ${lua(spec.path)}, headers, wrk.body)`,
    }
  } else if (spec.bodiesFile !== undefined) {
    // wrk.format sets Content-Length from the body it is given.
    lines = {
      file: spec.bodiesFile,
      format: `requests[#requests + 1] = wrk.format(nil, ${lua(spec.path)}, nil, line)`,
    }
  }
  if (lines !== undefined) {
    body += `
local requests = {}
local i = 0
function init(args)
  for line in io.lines(${lua(lines.file)}) do
    if #line > 0 then
      ${lines.format}
    end
  end
end
function request()
  i = i + 1
  if i > #requests then i = 1 end
  return requests[i]
end
`
  }
  const file = join(dir, `${name.replace(/[^a-z0-9-]/gi, '_')}.lua`)
  writeFileSync(file, body + WRK_DONE)
  return file
}

function runChild(command: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = track(spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] }))
    let out = ''
    let err = ''
    child.stdout?.setEncoding('utf8').on('data', (c: string) => (out += c))
    child.stderr?.setEncoding('utf8').on('data', (c: string) => (err += c))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.once('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      if (code === 0) resolve(out)
      else reject(new Error(`${command} exited ${code}: ${(err || out).trim().slice(0, 500)}`))
    })
  })
}

function resultLine(output: string): Record<string, number> {
  const match = /^BENCH_RESULT (.+)$/m.exec(output)
  if (match?.[1] === undefined) throw new Error(`no result from the load generator:\n${output}`)
  return JSON.parse(match[1]) as Record<string, number>
}

const num = (r: Record<string, number>, k: string): number => r[k] ?? 0

export interface LoadOptions {
  generator: LoadGenerator
  port: number
  seconds: number
  connections: number
  /** Scratch directory for scripts and configs. */
  dir: string
  name: string
}

/** Runs one bounded load against 127.0.0.1:<port> and returns throughput and latency. */
export async function runLoad(spec: LoadSpec, o: LoadOptions): Promise<LoadResult> {
  const url = `http://127.0.0.1:${o.port}${spec.path}`
  const hardLimit = (o.seconds + 20) * 1000
  if (o.generator === 'wrk') {
    const script = wrkScript(o.dir, o.name, spec)
    const args = ['-t1', `-c${o.connections}`, `-d${o.seconds}s`, '--timeout', '10s', '-s', script]
    const [command, argv] = pinned(LOAD_CORE, 'wrk', [...args, url])
    const r = resultLine(await runChild(command, argv, hardLimit))
    const seconds = num(r, 'duration_us') / 1e6
    return {
      requests: num(r, 'requests'),
      seconds,
      rps: num(r, 'requests') / seconds,
      p50Ms: num(r, 'p50_us') / 1000,
      p99Ms: num(r, 'p99_us') / 1000,
      non2xx: num(r, 'status'),
      socketErrors: num(r, 'connect') + num(r, 'read') + num(r, 'write') + num(r, 'timeout'),
    }
  }
  const config = join(o.dir, `${o.name.replace(/[^a-z0-9-]/gi, '_')}.autocannon.json`)
  writeFileSync(
    config,
    JSON.stringify({ url, seconds: o.seconds, connections: o.connections, ...spec }),
  )
  const runner = fileURLToPath(new URL('./autocannon-runner.mjs', import.meta.url))
  const [command, argv] = pinned(LOAD_CORE, process.execPath, [runner, config])
  const r = resultLine(await runChild(command, argv, hardLimit))
  return {
    requests: num(r, 'requests'),
    seconds: num(r, 'seconds'),
    rps: num(r, 'requests') / num(r, 'seconds'),
    p50Ms: num(r, 'p50_ms'),
    p99Ms: num(r, 'p99_ms'),
    non2xx: num(r, 'non2xx'),
    socketErrors: num(r, 'errors') + num(r, 'timeouts'),
  }
}
