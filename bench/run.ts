// The ccflow benchmark (issue 6). `pnpm bench [--quick | --check | --soak] [--only <substring>]`.
// See bench/README.md for what is measured and how to read it.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { guardTokens, runChecks, type CheckResult, type GuardTokens } from './lib/checks.js'
import {
  ASSERTION_LIFETIME,
  basicAuth,
  createFixtures,
  ROUTE,
  TOKEN_PATH,
  TOKEN_REQUEST_BODY,
  writeAssertionBodiesFile,
  writeTokenFile,
  type Alg,
  type Fixtures,
} from './lib/fixtures.js'
import { runLoad, type LoadGenerator, type LoadSpec } from './lib/load.js'
import { packageProblems } from './lib/packages.js'
import {
  cpuTimeOf,
  hasWrk,
  memoryOf,
  onExit,
  pinSelf,
  PINNING,
  startServer,
  type RunningServer,
} from './lib/processes.js'
import { buildReport, renderJson, renderMarkdown, type TargetOutcome } from './lib/report.js'
import { runSoak } from './lib/soak.js'
import { runClientBench } from './client/run.js'
import { runAuthTiming } from './timing/run.js'
import { renderPairs, runPair, type PairResult, type PairSpec } from './lib/paired.js'
import { selectTargets, SPEED_GOALS, targetNamed, type Target } from './lib/targets.js'

const USAGE = `usage: pnpm bench [--quick | --check | --soak] [options]
  --quick              1 run × 3 s per target (under 2 minutes)
  (default)            full: 5 interleaved runs × 4 s per target, median (under 12 minutes)
  --check              behaviour checks of every target only, no load; exits 1 on a failure (CI)
  --soak               60 s mixed valid/invalid traffic on a ccflow guard + token endpoint app
  --only <substring>   only targets whose name contains it (repeatable); keeps ceiling/express
  --runs <n>  --duration <s>  --warmup <s>  --connections <n>  --tokens <n>
  --assertion-rate <n> upper bound of the private_key_jwt target's req/s: each run gets
                       n × seconds never-used assertions (default 10000)
  --loadgen wrk|autocannon   (default: wrk when installed)
  --profile            run each server with --cpu-prof; profiles in bench/results/profiles/
  --paired             side by side: each target alternating with its baseline (ceiling/express,
                       and the peer of each issue-16 goal) in short slices; median of per-pair
                       ratios. --pairs <n> (default 8, --quick 4), --slice <s> (default 2, --quick 1)
  --versus <name>      with --paired: pair every selected target with this one target instead
The full run ends with the authentication timing check (also alone: pnpm --filter bench timing).`

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    check: { type: 'boolean', default: false },
    soak: { type: 'boolean', default: false },
    only: { type: 'string', multiple: true, default: [] },
    runs: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    tokens: { type: 'string' },
    'assertion-rate': { type: 'string' },
    loadgen: { type: 'string' },
    profile: { type: 'boolean', default: false },
    paired: { type: 'boolean', default: false },
    versus: { type: 'string' },
    pairs: { type: 'string' },
    slice: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
  allowPositionals: false,
})

if (values.help) {
  console.log(USAGE)
  process.exit(0)
}

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`bench: --${name} must be a positive number\n${USAGE}`)
    process.exit(2)
  }
  return n
}

const mode = values.check ? 'check' : values.soak ? 'soak' : values.quick ? 'quick' : 'full'
const settings = {
  // More short runs beat fewer long ones on a shared machine: the median drops a noisy run.
  runs: Math.round(positive('runs', values.runs, mode === 'full' ? 5 : 1)),
  duration: positive('duration', values.duration, mode === 'soak' ? 60 : mode === 'full' ? 4 : 3),
  warmup: positive('warmup', values.warmup, 1),
  connections: Math.round(positive('connections', values.connections, 16)),
  // Each fresh token comes back only after this many requests: any cache smaller misses.
  tokens: Math.round(positive('tokens', values.tokens, 10_000)),
  // Every private_key_jwt request needs an assertion never sent before (a replay is a 401): a
  // run gets this many per second of load, far above what one core can verify and sign.
  assertionRate: Math.round(positive('assertion-rate', values['assertion-rate'], 10_000)),
}

const pairedSettings = {
  pairs: Math.round(positive('pairs', values.pairs, mode === 'quick' ? 4 : 8)),
  sliceSeconds: positive('slice', values.slice, mode === 'quick' ? 1 : 2),
  warmupSeconds: settings.warmup,
}

const resultsDir = fileURLToPath(new URL('./results/', import.meta.url))
const scratch = mkdtempSync(join(tmpdir(), 'ccflow-bench-'))
onExit(() => rmSync(scratch, { recursive: true, force: true }))

function chooseGenerator(): LoadGenerator {
  if (values.loadgen === 'wrk' || values.loadgen === 'autocannon') return values.loadgen
  if (values.loadgen !== undefined) {
    console.error(`bench: --loadgen must be wrk or autocannon\n${USAGE}`)
    process.exit(2)
  }
  if (hasWrk()) return 'wrk'
  console.log(
    'bench: wrk is not installed; the reference figures use it (Debian/Ubuntu: `sudo apt-get install wrk`).\n' +
      '       Falling back to autocannon, which needs more CPU per request: ratios stay comparable, absolute req/s do not.',
  )
  return 'autocannon'
}

/** First line of an error, plus the first line of the server's stderr that names an error. */
function summarize(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const [first = '', ...rest] = err.message.split('\n')
  const cause = rest.find((line) => /error/i.test(line))?.trim()
  return cause ? `${first}: ${cause.slice(0, 240)}` : first
}

const describeFailures = (results: CheckResult[]): string =>
  results
    .filter((r) => !r.ok)
    .map((r) => `${r.name} (${r.detail})`)
    .join('; ')

async function checkAll(
  targets: readonly Target[],
  fixtures: Fixtures,
  tokens: Record<Alg, GuardTokens>,
): Promise<number> {
  let failed = 0
  for (const target of targets) {
    const started = Date.now()
    let results: CheckResult[]
    try {
      const server = await startServer(target.server, target.options, fixtures.file)
      try {
        results = await runChecks(target, server.port, fixtures, tokens)
      } finally {
        await server.stop()
      }
    } catch (err) {
      results = [{ name: 'start', ok: false, detail: summarize(err) }]
    }
    const bad = results.filter((r) => !r.ok)
    if (bad.length > 0) failed++
    const status = bad.length === 0 ? 'ok  ' : 'FAIL'
    console.log(
      `${status} ${target.name.padEnd(42)} ${results.length - bad.length}/${results.length} checks  ${Date.now() - started} ms`,
    )
    for (const r of bad) console.log(`       ✗ ${r.name}: ${r.detail}`)
  }
  console.log(`\ncheck: ${targets.length - failed} of ${targets.length} targets behave`)
  return failed === 0 ? 0 : 1
}

function loadSpec(
  target: Target,
  fixtures: Fixtures,
  tokens: Record<Alg, GuardTokens>,
  fresh: Map<Alg, string>,
  assertionBodies: string | undefined,
): LoadSpec {
  const alg = target.alg ?? 'RS256'
  switch (target.load) {
    case 'plain':
      return { method: 'GET', path: ROUTE, headers: {} }
    case 'token-reused':
      return {
        method: 'GET',
        path: ROUTE,
        headers: { Authorization: `Bearer ${tokens[alg].valid}` },
      }
    case 'token-fresh': {
      const tokensFile = fresh.get(alg)
      if (tokensFile === undefined) throw new Error(`no fresh ${alg} tokens were minted`)
      return { method: 'GET', path: ROUTE, headers: {}, tokensFile }
    }
    case 'token-request':
      return {
        method: 'POST',
        path: TOKEN_PATH,
        headers: {
          Authorization: basicAuth(fixtures.client.id, fixtures.client.secret),
          'Content-Type': 'application/x-www-form-urlencoded',
        },
        body: TOKEN_REQUEST_BODY,
      }
    case 'assertion-request':
      if (assertionBodies === undefined) throw new Error('no client assertions were minted')
      return {
        method: 'POST',
        path: TOKEN_PATH,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        bodiesFile: assertionBodies,
      }
  }
}

/** Never-used assertion request bodies for one run of a private_key_jwt target. */
interface AssertionPools {
  warm: string
  measure: string
  warmSize: number
  measureSize: number
}

/**
 * Mints the warm-up and measurement pools of a private_key_jwt target right before its run: one
 * assertion per request at up to `--assertion-rate` req/s, each with its own jti and valid for
 * ASSERTION_LIFETIME seconds from now, so the pool outlives the run (checked at startup) and
 * every request is a first use. A fresh server process (a fresh replay store) runs each time.
 */
function mintAssertionPools(fixtures: Fixtures): AssertionPools {
  const t0 = Date.now()
  const warmSize = Math.ceil(settings.warmup * settings.assertionRate)
  const measureSize = Math.ceil(settings.duration * settings.assertionRate)
  const warm = join(scratch, 'assertions-warm.txt')
  const measure = join(scratch, 'assertions.txt')
  writeAssertionBodiesFile(warm, fixtures.keyClient, warmSize)
  writeAssertionBodiesFile(measure, fixtures.keyClient, measureSize)
  console.log(
    `minted ${measureSize} + ${warmSize} distinct ES256 client assertions in ${Date.now() - t0} ms`,
  )
  return { warm, measure, warmSize, measureSize }
}

const profilesDir = join(resultsDir, 'profiles')

/** Node flags of a server: --cpu-prof when profiling, one profile per target and run. */
function nodeArgs(target: Target, run: number): string[] {
  if (!values.profile) return []
  mkdirSync(profilesDir, { recursive: true })
  const name = `${target.name.replace(/\//g, '_')}.run${run + 1}.cpuprofile`
  return ['--cpu-prof', '--cpu-prof-dir', profilesDir, '--cpu-prof-name', name]
}

/**
 * Starts a target's server, retrying twice 4 s apart: a package being rebuilt (`dist` is
 * emptied first, tsc takes seconds) makes a start fail for a moment without anything wrong.
 */
async function startWithRetry(
  target: Target,
  run: number,
  fixtures: Fixtures,
): Promise<RunningServer> {
  const start = (): Promise<RunningServer> =>
    startServer(target.server, target.options, fixtures.file, nodeArgs(target, run))
  for (let attempt = 1; ; attempt++) {
    try {
      return await start()
    } catch (err) {
      if (attempt === 3) throw err
      await new Promise((resolve) => setTimeout(resolve, 4000))
    }
  }
}

async function bench(
  targets: readonly Target[],
  fixtures: Fixtures,
  tokens: Record<Alg, GuardTokens>,
): Promise<number> {
  const generator = chooseGenerator()
  const began = Date.now()
  const loadBefore = loadavg()[0] ?? 0
  if (loadBefore > cpus().length / 2) {
    console.log(
      `bench: warning: load average ${loadBefore.toFixed(1)} before the first run; other work on this machine will add noise`,
    )
  }
  // Two token sets per algorithm: warm-up tokens, then never-seen tokens for the measurement.
  const fresh = new Map<Alg, string>()
  const warm = new Map<Alg, string>()
  for (const alg of ['RS256', 'ES256'] as const) {
    if (!targets.some((t) => t.load === 'token-fresh' && t.alg === alg)) continue
    const t0 = Date.now()
    writeTokenFile(join(scratch, `warm-${alg}.txt`), fixtures.keys[alg], 2000)
    writeTokenFile(join(scratch, `fresh-${alg}.txt`), fixtures.keys[alg], settings.tokens)
    warm.set(alg, join(scratch, `warm-${alg}.txt`))
    fresh.set(alg, join(scratch, `fresh-${alg}.txt`))
    console.log(`minted ${settings.tokens} + 2000 distinct ${alg} tokens in ${Date.now() - t0} ms`)
  }

  const outcomes = new Map<string, TargetOutcome>(
    targets.map((t) => [t.name, { target: t, samples: [] }]),
  )
  const base = { generator, dir: scratch, connections: settings.connections }
  for (let run = 0; run < settings.runs; run++) {
    // Round-robin, each run starting one target later, so drift hits every target alike.
    const order = targets.map((_, i) => targets[(i + run) % targets.length] as Target)
    for (const target of order) {
      const outcome = outcomes.get(target.name) as TargetOutcome
      if (outcome.excluded !== undefined) continue
      const label = `[run ${run + 1}/${settings.runs}] ${target.name.padEnd(42)}`
      let server
      try {
        server = await startWithRetry(target, run, fixtures)
      } catch (err) {
        outcome.excluded = `did not start: ${summarize(err)}`
        console.log(`${label} excluded, ${outcome.excluded}`)
        continue
      }
      try {
        const checks = await runChecks(target, server.port, fixtures, tokens)
        if (checks.some((c) => !c.ok)) {
          outcome.excluded = `failed its behaviour checks: ${describeFailures(checks)}`
          outcome.failedChecks = checks.filter((c) => !c.ok)
          console.log(`${label} EXCLUDED, ${outcome.excluded}`)
          continue
        }
        const pools = target.load === 'assertion-request' ? mintAssertionPools(fixtures) : undefined
        const spec = loadSpec(target, fixtures, tokens, fresh, pools?.measure)
        const warmSpec = { ...spec }
        const warmFile = warm.get(target.alg ?? 'RS256')
        if (spec.tokensFile !== undefined && warmFile !== undefined) warmSpec.tokensFile = warmFile
        if (pools !== undefined) warmSpec.bodiesFile = pools.warm
        const o = {
          ...base,
          connections: target.connections ?? base.connections,
          port: server.port,
          name: target.name,
        }
        const warmed = await runLoad(warmSpec, {
          ...o,
          seconds: settings.warmup,
          name: `${target.name}-warm`,
        })
        // The server's CPU time over the measured window only (not the warm-up): per request it
        // does not depend on how much of its core the server got, unlike req/s.
        const cpuBefore = cpuTimeOf(server.pid)
        const result = await runLoad(spec, { ...o, seconds: settings.duration })
        const cpuAfter = cpuTimeOf(server.pid)
        const memory = memoryOf(server.pid)
        if (result.requests === 0) {
          outcome.excluded = `no request completed in ${settings.duration} s`
          console.log(`${label} EXCLUDED, ${outcome.excluded}`)
          continue
        }
        // The generator would have started the pool again: replays, refused, not a measurement.
        if (
          pools !== undefined &&
          (warmed.requests > pools.warmSize || result.requests > pools.measureSize)
        ) {
          outcome.excluded = `ran out of client assertions (${warmed.requests} + ${result.requests} requests for ${pools.warmSize} + ${pools.measureSize}); raise --assertion-rate`
          console.log(`${label} EXCLUDED, ${outcome.excluded}`)
          continue
        }
        if (result.non2xx > 0) {
          outcome.excluded = `${result.non2xx} of ${result.requests} responses under load were not 2xx`
          console.log(`${label} EXCLUDED, ${outcome.excluded}`)
          continue
        }
        const cpuUsPerReq =
          cpuBefore === undefined || cpuAfter === undefined
            ? Number.NaN
            : (cpuAfter - cpuBefore) / result.requests
        outcome.samples.push({
          rps: result.rps,
          p50Ms: result.p50Ms,
          p99Ms: result.p99Ms,
          peakMb: memory?.peakMb ?? Number.NaN,
          cpuUsPerReq,
        })
        const errors = result.socketErrors > 0 ? `  (${result.socketErrors} socket errors)` : ''
        const cpuText = Number.isNaN(cpuUsPerReq) ? '?' : cpuUsPerReq.toFixed(1)
        console.log(
          `${label} ${Math.round(result.rps).toString().padStart(6)} req/s  p50 ${result.p50Ms.toFixed(2)} ms  p99 ${result.p99Ms.toFixed(2)} ms  CPU ${cpuText} µs/req  peak RSS ${memory?.peakMb.toFixed(1) ?? '?'} MB${errors}`,
        )
      } catch (err) {
        outcome.excluded = `error: ${summarize(err)}`
        console.log(`${label} EXCLUDED, ${outcome.excluded}`)
      } finally {
        await server.stop()
      }
    }
  }

  const cpu = cpus()[0]?.model ?? 'unknown'
  const report = buildReport([...outcomes.values()], {
    date: new Date().toISOString(),
    mode: values.only.length > 0 ? `${mode} (--only ${values.only.join(', ')})` : mode,
    node: process.version,
    cpu: `${cpu} × ${cpus().length}`,
    'load generator': `${generator}, 1 thread, ${settings.connections} connections`,
    pinning: PINNING ? 'server on core 0, load generator on core 1 (taskset)' : 'none',
    runs: `${settings.runs} interleaved run(s) × ${settings.duration} s after ${settings.warmup} s warm-up; medians`,
    'fresh tokens': `${settings.tokens} distinct per algorithm`,
    ...(targets.some((t) => t.load === 'assertion-request')
      ? {
          'client assertions': `${settings.assertionRate} per second of load, minted before each run, valid ${ASSERTION_LIFETIME} s, each sent once`,
        }
      : {}),
    'wall time': `${Math.round((Date.now() - began) / 1000)} s`,
    // The harness itself keeps about one core busy; more than that is someone else's work.
    'load average (1 min) before / after': `${loadBefore.toFixed(1)} / ${(loadavg()[0] ?? 0).toFixed(1)}`,
  })
  const markdown = renderMarkdown(report)
  mkdirSync(resultsDir, { recursive: true })
  writeFileSync(join(resultsDir, 'latest.md'), markdown)
  writeFileSync(join(resultsDir, 'latest.json'), renderJson(report))
  console.log(`\n${markdown}`)
  console.log('written: bench/results/latest.md, bench/results/latest.json')
  if (values.profile) {
    console.log('CPU profiles: bench/results/profiles/ (open in Chrome DevTools or speedscope)')
  }
  return report.excluded.length === 0 ? 0 : 1
}

/**
 * The pairs of a paired run: every selected target against the Express ceiling, and every
 * issue-16 goal whose two sides are both selected, target against its peer.
 */
function pairsOf(targets: readonly Target[]): PairSpec[] {
  if (values.versus !== undefined) {
    const versus = targetNamed(values.versus)
    // A ceiling is paired only when --only names it: ceiling/express is otherwise in every
    // selection, kept for the ratios.
    const named = (t: Target): boolean =>
      t.kind !== 'ceiling' ||
      (values.only ?? []).some(
        (o) => t.name === o || (t.name !== 'ceiling/express' && t.name.includes(o)),
      )
    return targets
      .filter((t) => t.name !== versus.name && named(t))
      .map((target) => {
        const goal = SPEED_GOALS.find((g) => g.target === target.name && g.versus === versus.name)
        return { target, versus, ...(goal ? { goal } : {}) }
      })
  }
  const selected = new Set(targets.map((t) => t.name))
  const ceiling = targetNamed('ceiling/express')
  const pairs: PairSpec[] = []
  for (const target of targets) {
    if (target.kind === 'ceiling') continue
    const goal = SPEED_GOALS.find((g) => g.target === target.name && g.versus === ceiling.name)
    pairs.push({ target, versus: ceiling, ...(goal ? { goal } : {}) })
  }
  for (const g of SPEED_GOALS) {
    if (g.versus === ceiling.name || !selected.has(g.target) || !selected.has(g.versus)) continue
    pairs.push({ target: targetNamed(g.target), versus: targetNamed(g.versus), goal: g })
  }
  return pairs
}

async function paired(
  targets: readonly Target[],
  fixtures: Fixtures,
  tokens: Record<Alg, GuardTokens>,
): Promise<number> {
  const generator = chooseGenerator()
  const began = Date.now()
  const fresh = new Map<Alg, string>()
  for (const alg of ['RS256', 'ES256'] as const) {
    if (!targets.some((t) => t.load === 'token-fresh' && t.alg === alg)) continue
    writeTokenFile(join(scratch, `fresh-${alg}.txt`), fixtures.keys[alg], settings.tokens)
    fresh.set(alg, join(scratch, `fresh-${alg}.txt`))
  }
  let slices = 0
  const results: PairResult[] = []
  for (const pair of pairsOf(targets)) {
    console.log(`${pair.target.name} vs ${pair.versus.name}`)
    const result = await runPair(
      pair,
      {
        start: (target) => startWithRetry(target, 0, fixtures),
        check: async (target, server) => {
          const checks = await runChecks(target, server.port, fixtures, tokens)
          return checks.some((c) => !c.ok) ? describeFailures(checks) : undefined
        },
        spec: (target, seconds) => {
          // A private_key_jwt slice needs assertions never sent before, minted for this slice.
          let bodies: string | undefined
          if (target.load === 'assertion-request') {
            bodies = join(scratch, `assertions-${slices++}.txt`)
            writeAssertionBodiesFile(
              bodies,
              fixtures.keyClient,
              Math.ceil(seconds * settings.assertionRate),
            )
          }
          return loadSpec(target, fixtures, tokens, fresh, bodies)
        },
        load: (target, server, spec, seconds) =>
          runLoad(spec, {
            generator,
            dir: scratch,
            connections: target.connections ?? settings.connections,
            port: server.port,
            name: target.name,
            seconds,
          }),
        cpuTime: cpuTimeOf,
        log: (line) => console.log(line),
      },
      pairedSettings,
    )
    const verdict = result.excluded ?? `ratio ${result.ratio} (spread ${result.spread})`
    console.log(`  → ${verdict}`)
    results.push(result)
  }
  const meta = [
    `- date: ${new Date().toISOString()}`,
    `- node: ${process.version}; cpu: ${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}`,
    `- load generator: ${generator}, 1 thread, ${settings.connections} connections; pinning: ${PINNING ? 'servers on core 0, load on core 1' : 'none'}`,
    `- ${pairedSettings.pairs} pairs × ${pairedSettings.sliceSeconds} s slices per side after ${pairedSettings.warmupSeconds} s warm-up; wall time ${Math.round((Date.now() - began) / 1000)} s`,
  ]
  const markdown = `# ccflow benchmark, paired\n\n${meta.join('\n')}\n\n${renderPairs(results)}`
  mkdirSync(resultsDir, { recursive: true })
  writeFileSync(join(resultsDir, 'paired.md'), markdown)
  writeFileSync(join(resultsDir, 'paired.json'), `${JSON.stringify({ results }, null, 2)}\n`)
  console.log(`\n${markdown}`)
  console.log('written: bench/results/paired.md, bench/results/paired.json')
  return results.some((r) => r.excluded !== null) ? 1 : 0
}

async function main(): Promise<number> {
  pinSelf()
  const { fatal, warnings } = packageProblems()
  for (const w of warnings) console.log(`bench: warning: ${w}; run \`pnpm build\` first`)
  if (fatal.length > 0) {
    for (const f of fatal) console.error(`bench: ${f}`)
    console.error('bench: run `pnpm build` at the repository root first')
    return 2
  }
  const fixtures = createFixtures(scratch)
  const tokens = { RS256: guardTokens(fixtures, 'RS256'), ES256: guardTokens(fixtures, 'ES256') }
  if (mode === 'soak') return runSoak({ fixtures, tokens, seconds: settings.duration, scratch })
  const targets = selectTargets(values.only, mode !== 'check')
  if (targets.length === 0) {
    console.error(`bench: no target matches --only ${values.only.join(', ')}`)
    return 2
  }
  if (mode === 'check') return checkAll(targets, fixtures, tokens)
  if (values.paired) return paired(targets, fixtures, tokens)
  // A pool is minted just before a run and must still be valid at its end (a minute to spare).
  const span = settings.warmup + settings.duration
  if (targets.some((t) => t.load === 'assertion-request') && span > ASSERTION_LIFETIME - 60) {
    console.error(
      `bench: --warmup + --duration is ${span} s; the private_key_jwt target's assertions are valid ${ASSERTION_LIFETIME} s, so keep it at most ${ASSERTION_LIFETIME - 60} s (or leave that target out with --only)`,
    )
    return 2
  }
  const status = await bench(targets, fixtures, tokens)
  if (mode !== 'full' || values.only.length > 0) return status
  // The full run also checks that refused client authentications cost the same (issue 18).
  console.log('')
  const timing = await runAuthTiming()
  for (const line of timing.lines) console.log(line)
  // And what @ccflow/client's getToken() costs on a warm cache (issue 13).
  console.log('')
  const client = await runClientBench()
  for (const line of client.lines) console.log(line)
  return timing.ok && client.fleetRequests === 1 ? status : 1
}

process.exit(await main())
