// Instructions per request: a target against another, each server under valgrind's callgrind.
//
// Requests per second on this shared two-core host move by ±15 % from one 2-second slice to
// the next, so a paired comparison needs dozens of pairs to resolve a 3 % difference (issue 14).
// Instructions do not depend on what else the machine runs. Each run starts both servers under
// callgrind with counting off, sends the warm-up (counting off: JIT tiers settle), counts
// exactly `--requests` requests on the same keep-alive connections, and reads the profile. The
// optimizing compilers' work in the window is reported apart and left out: when V8 recompiles is
// not the code's cost. (Counting on fresh connections made V8 deoptimize and recompile a dozen
// functions inside the window, 100k+ instructions per request, and the runs 4 % apart.)
//
// An instruction is not a second: cache misses and system calls (the kernel is not counted) cost
// time that instructions do not show. Quote both this and `--paired`.
//
// `pnpm --filter bench instructions --only <target> --versus <target> [--runs 3]
//   [--warmup 8000] [--requests 2000] [--connections 4] [--keep]` (--keep: leave the profiles,
// for callgrind_annotate)
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { guardTokens } from '../lib/checks.js'
import {
  basicAuth,
  createFixtures,
  ROUTE,
  TOKEN_PATH,
  TOKEN_REQUEST_BODY,
  type Fixtures,
} from '../lib/fixtures.js'
import type { HttpRequest } from '../lib/http.js'
import { startServer, type RunningServer } from '../lib/processes.js'
import { targetNamed, type Target } from '../lib/targets.js'
import { readInstructionCounts, type InstructionCounts } from './callgrind.js'

const USAGE = `usage: pnpm --filter bench instructions --only <target> --versus <target>
  [--runs <n>] [--warmup <requests>] [--requests <n>] [--connections <n>] [--keep]`

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    versus: { type: 'string' },
    runs: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '8000' },
    requests: { type: 'string', default: '2000' },
    connections: { type: 'string', default: '4' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
})

function count(name: string, value: string | undefined): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name} must be a positive integer\n${USAGE}`)
    process.exit(2)
  }
  return n
}

if (values.help || values.only === undefined || values.versus === undefined) {
  console.error(USAGE)
  process.exit(values.help ? 0 : 2)
}
const settings = {
  runs: count('runs', values.runs),
  warmup: count('warmup', values.warmup),
  requests: count('requests', values.requests),
  connections: count('connections', values.connections),
}

for (const tool of ['valgrind', 'callgrind_control']) {
  if (spawnSync(tool, ['--help'], { stdio: 'ignore' }).error !== undefined) {
    console.error(`instructions: ${tool} is not installed (Debian: apt-get install valgrind)`)
    process.exit(2)
  }
}

/** The one request a target is driven with; every request of a run is the same. */
function requestFor(target: Target, fixtures: Fixtures): Omit<HttpRequest, 'port'> {
  switch (target.load) {
    case 'plain':
      return { method: 'GET', path: ROUTE }
    case 'token-reused':
      return {
        method: 'GET',
        path: ROUTE,
        headers: { authorization: `Bearer ${guardTokens(fixtures, target.alg ?? 'RS256').valid}` },
      }
    case 'token-request':
      return {
        method: 'POST',
        path: TOKEN_PATH,
        headers: {
          authorization: basicAuth(fixtures.client.id, fixtures.client.secret),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: TOKEN_REQUEST_BODY,
      }
    case 'token-fresh':
    case 'assertion-request':
      throw new Error(
        `${target.name}: its load (${target.load}) sends a different request every time; ` +
          'instructions are counted for targets driven with one request (plain, token-reused, ' +
          'token-request)',
      )
  }
}

/** One request on `agent`; resolves with the status once the body has been read. */
function once(port: number, req: Omit<HttpRequest, 'port'>, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const r = request(
      { host: '127.0.0.1', port, method: req.method, path: req.path, headers: req.headers, agent },
      (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
        res.on('error', reject)
      },
    )
    r.on('error', reject)
    r.end(req.body)
  })
}

/** Sends `n` requests over `connections` keep-alive connections; throws on any other status. */
async function drive(
  server: RunningServer,
  req: Omit<HttpRequest, 'port'>,
  n: number,
  agent: Agent,
  connections: number,
): Promise<void> {
  let left = n
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (left-- > 0) {
        const status = await once(server.port, req, agent)
        if (status !== 200) throw new Error(`answered ${status}`)
      }
    }),
  )
}

interface Measured extends InstructionCounts {
  /** Instructions per request, the optimizing compilers' left out. */
  steady: number
}

/** One run of one target: start under callgrind, warm up, count `requests`, read the profile. */
async function measure(
  target: Target,
  fixtures: Fixtures,
  dir: string,
  run: number,
): Promise<Measured> {
  const out = join(dir, `${target.name.replace(/\//g, '_')}.run${run}.callgrind`)
  const server = await startServer(target.server, target.options, fixtures.file, [], {
    timeoutMs: 180_000,
    wrapper: [
      'valgrind',
      '--tool=callgrind',
      '--instr-atstart=no',
      '--cache-sim=no',
      '--branch-sim=no',
      `--callgrind-out-file=${out}`,
    ],
  })
  // One agent for the warm-up and the count: the counted requests use warm connections.
  const agent = new Agent({ keepAlive: true, maxSockets: settings.connections })
  try {
    const req = requestFor(target, fixtures)
    await drive(server, req, settings.warmup, agent, settings.connections)
    execFileSync('callgrind_control', ['--instr=on', String(server.pid)], { stdio: 'ignore' })
    await drive(server, req, settings.requests, agent, settings.connections)
    execFileSync('callgrind_control', ['--instr=off', String(server.pid)], { stdio: 'ignore' })
    execFileSync('callgrind_control', ['--dump', String(server.pid)], { stdio: 'ignore' })
  } finally {
    agent.destroy()
    await server.stop()
  }
  // The explicit dump is part 1; the profile written at exit (counting off) is not read.
  const dump = `${out}.1`
  if (!existsSync(dump)) throw new Error(`${target.name}: callgrind wrote no dump (${dump})`)
  const counts = readInstructionCounts(dump)
  return { ...counts, steady: (counts.total - counts.compiler) / settings.requests }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

const thousands = (n: number): string => Math.round(n).toLocaleString('en-US')

async function main(): Promise<void> {
  const target = targetNamed(values.only as string)
  const versus = targetNamed(values.versus as string)
  const dir = mkdtempSync(join(tmpdir(), 'ccflow-instructions-'))
  const fixtures = createFixtures(dir)
  const rows: { run: number; target: Measured; versus: Measured }[] = []
  try {
    for (let run = 1; run <= settings.runs; run++) {
      // Both at once, one per core: instruction counts do not care that they share the machine.
      const [t, v] = await Promise.all([
        measure(target, fixtures, dir, run),
        measure(versus, fixtures, dir, run),
      ])
      rows.push({ run, target: t, versus: v })
      console.log(
        `run ${run}: ${target.name} ${thousands(t.steady)}, ${versus.name} ${thousands(v.steady)} ` +
          `instructions/request (ratio ${(t.steady / v.steady).toFixed(4)})`,
      )
    }
  } finally {
    if (values.keep) console.log(`profiles kept in ${dir} (callgrind_annotate <file>.1)`)
    else rmSync(dir, { recursive: true, force: true })
  }
  const t = median(rows.map((r) => r.target.steady))
  const v = median(rows.map((r) => r.versus.steady))
  const ratio = median(rows.map((r) => r.target.steady / r.versus.steady))
  const result = {
    date: new Date().toISOString(),
    node: process.version,
    target: target.name,
    versus: versus.name,
    settings,
    target_instructions_per_request: Math.round(t),
    versus_instructions_per_request: Math.round(v),
    difference_per_request: Math.round(t - v),
    ratio: Number(ratio.toFixed(4)),
    runs: rows.map((r) => ({
      run: r.run,
      target: Math.round(r.target.steady),
      versus: Math.round(r.versus.steady),
      target_compiler: Math.round(r.target.compiler / settings.requests),
      versus_compiler: Math.round(r.versus.compiler / settings.requests),
    })),
  }
  const md = [
    `# Instructions per request: ${target.name} against ${versus.name}`,
    '',
    `- date: ${result.date}; node: ${result.node}; valgrind callgrind, both servers at once`,
    `- per run: ${settings.warmup} requests of warm-up uncounted, then ${settings.requests} ` +
      `counted, over ${settings.connections} keep-alive connections; the optimizing compilers' ` +
      'instructions left out (shown apart)',
    '',
    '| run | target | versus | ratio | compiler (target / versus) |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...result.runs.map(
      (r) =>
        `| ${r.run} | ${thousands(r.target)} | ${thousands(r.versus)} | ${(r.target / r.versus).toFixed(4)} | ${thousands(r.target_compiler)} / ${thousands(r.versus_compiler)} |`,
    ),
    `| median | ${thousands(t)} | ${thousands(v)} | ${result.ratio.toFixed(4)} | |`,
    '',
    `${target.name} executes ${thousands(t - v)} instructions per request more than ` +
      `${versus.name} (${((ratio - 1) * 100).toFixed(2)} %).`,
    '',
  ].join('\n')
  const resultsDir = fileURLToPath(new URL('../results/', import.meta.url))
  mkdirSync(resultsDir, { recursive: true })
  writeFileSync(join(resultsDir, 'instructions.md'), md)
  writeFileSync(join(resultsDir, 'instructions.json'), `${JSON.stringify(result, null, 2)}\n`)
  console.log(`\n${md}written: bench/results/instructions.md, bench/results/instructions.json`)
}

main().catch((err: unknown) => {
  console.error(`instructions: ${err instanceof Error ? err.message : String(err)}`)
  process.exitCode = 1
})
