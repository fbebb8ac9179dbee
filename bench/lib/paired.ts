// Paired mode (issue 16): two servers, up side by side, loaded in alternating short slices.
// On a shared 2-core machine an unpaired median moves by 20–40 % between runs; a slice of the
// target and a slice of its baseline taken a second apart see the same neighbours, so the
// per-pair ratio moves by a few percent. The verdict is the median of the per-pair ratios.
import type { LoadResult, LoadSpec } from './load.js'
import type { RunningServer } from './processes.js'
import type { Target } from './targets.js'

/** One comparison: `target` against `versus`, with an optional minimum ratio (a goal). */
export interface PairSpec {
  target: Target
  versus: Target
  /** Goal text and minimum of target ÷ versus req/s, when this pair decides a goal. */
  goal?: { goal: string; min: number }
}

export interface PairResult {
  target: string
  versus: string
  goal: string | null
  min: number | null
  /** target req/s ÷ versus req/s, one per pair, in the order they ran. */
  ratios: number[]
  /** Median of `ratios`: the paired verdict. */
  ratio: number | null
  /** (max − min) / median of `ratios`. */
  spread: number | null
  /** Unpaired: median req/s of each side over its slices, to compare with the ratio. */
  target_rps: number | null
  versus_rps: number | null
  /** Median per-pair CPU ratio: versus µs/request ÷ target µs/request (null without /proc). */
  cpu_ratio: number | null
  pass: boolean | null
  /** Why the pair was not measured. */
  excluded: string | null
}

/** What a slice of load needs from the harness; run.ts supplies the real ones. */
export interface PairedDriver {
  start(target: Target): Promise<RunningServer>
  /** Behaviour checks; a non-empty string is the reason the target is refused. */
  check(target: Target, server: RunningServer): Promise<string | undefined>
  /** The load of one slice (fresh assertion pools are minted per slice when the target needs them). */
  spec(target: Target, seconds: number, warm: boolean): LoadSpec
  load(target: Target, server: RunningServer, spec: LoadSpec, seconds: number): Promise<LoadResult>
  cpuTime(pid: number): number | undefined
  log(line: string): void
}

export interface PairedSettings {
  pairs: number
  sliceSeconds: number
  warmupSeconds: number
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

const round = (value: number | null, digits: number): number | null =>
  value === null ? null : Math.round(value * 10 ** digits) / 10 ** digits

interface Slice {
  rps: number
  cpuUsPerReq: number | undefined
}

async function slice(
  driver: PairedDriver,
  target: Target,
  server: RunningServer,
  seconds: number,
): Promise<Slice> {
  const spec = driver.spec(target, seconds, false)
  const before = driver.cpuTime(server.pid)
  const result = await driver.load(target, server, spec, seconds)
  const after = driver.cpuTime(server.pid)
  if (result.requests === 0) throw new Error(`${target.name}: no request completed`)
  if (result.non2xx > 0) {
    throw new Error(`${target.name}: ${result.non2xx} of ${result.requests} responses were not 2xx`)
  }
  const cpu =
    before === undefined || after === undefined ? undefined : (after - before) / result.requests
  return { rps: result.rps, cpuUsPerReq: cpu }
}

/**
 * Runs one pair: starts both servers (both on the server core; the idle one costs nothing),
 * checks and warms each, then `pairs` times loads one slice of each, swapping which goes first
 * every pair so that neither side always gets the warmer machine.
 */
export async function runPair(
  pair: PairSpec,
  driver: PairedDriver,
  settings: PairedSettings,
): Promise<PairResult> {
  const result: PairResult = {
    target: pair.target.name,
    versus: pair.versus.name,
    goal: pair.goal?.goal ?? null,
    min: pair.goal?.min ?? null,
    ratios: [],
    ratio: null,
    spread: null,
    target_rps: null,
    versus_rps: null,
    cpu_ratio: null,
    pass: null,
    excluded: null,
  }
  const servers: RunningServer[] = []
  try {
    const sides = [pair.target, pair.versus] as const
    for (const side of sides) {
      const server = await driver.start(side)
      servers.push(server)
      const refused = await driver.check(side, server)
      if (refused !== undefined) throw new Error(`${side.name} failed its checks: ${refused}`)
      await driver.load(
        side,
        server,
        driver.spec(side, settings.warmupSeconds, true),
        settings.warmupSeconds,
      )
    }
    const [targetServer, versusServer] = servers as [RunningServer, RunningServer]
    const targetRps: number[] = []
    const versusRps: number[] = []
    const cpuRatios: number[] = []
    for (let i = 0; i < settings.pairs; i++) {
      const targetFirst = i % 2 === 0
      const first = targetFirst
        ? await slice(driver, pair.target, targetServer, settings.sliceSeconds)
        : await slice(driver, pair.versus, versusServer, settings.sliceSeconds)
      const second = targetFirst
        ? await slice(driver, pair.versus, versusServer, settings.sliceSeconds)
        : await slice(driver, pair.target, targetServer, settings.sliceSeconds)
      const [t, v] = targetFirst ? [first, second] : [second, first]
      targetRps.push(t.rps)
      versusRps.push(v.rps)
      result.ratios.push(t.rps / v.rps)
      if (t.cpuUsPerReq !== undefined && v.cpuUsPerReq !== undefined && t.cpuUsPerReq > 0) {
        cpuRatios.push(v.cpuUsPerReq / t.cpuUsPerReq)
      }
      driver.log(
        `  pair ${i + 1}/${settings.pairs}: ${Math.round(t.rps)} vs ${Math.round(v.rps)} req/s → ${(t.rps / v.rps).toFixed(3)}`,
      )
    }
    const ratio = median(result.ratios)
    result.ratio = round(ratio, 3)
    result.spread =
      ratio === null || result.ratios.length < 2
        ? null
        : round((Math.max(...result.ratios) - Math.min(...result.ratios)) / ratio, 3)
    result.ratios = result.ratios.map((r) => round(r, 3) as number)
    result.target_rps = round(median(targetRps), 0)
    result.versus_rps = round(median(versusRps), 0)
    result.cpu_ratio = round(median(cpuRatios), 3)
    result.pass = result.min === null || ratio === null ? null : ratio >= result.min
  } catch (err) {
    result.excluded = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err)
  } finally {
    await Promise.all(servers.map((s) => s.stop()))
  }
  return result
}

const fmt = (value: number | null, digits: number): string =>
  value === null ? '–' : value.toFixed(digits)

/** The paired table, Markdown. */
export function renderPairs(results: readonly PairResult[]): string {
  const lines = [
    '## Paired ratios (issue 16)',
    '',
    'Each row: both servers up, loaded in alternating slices; ratio = median of the per-pair req/s ratios (target ÷ versus). The unpaired medians are beside it for comparison.',
    '',
    '| target | versus | paired ratio | pairs | spread | target req/s | versus req/s | CPU ratio | goal | min | result |',
    '| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | --- | ---: | --- |',
  ]
  for (const r of results) {
    const verdict =
      r.excluded !== null
        ? `not measured: ${r.excluded}`
        : r.pass === null
          ? ''
          : r.pass
            ? 'PASS'
            : 'FAIL'
    lines.push(
      `| ${r.target} | ${r.versus} | ${fmt(r.ratio, 3)} | ${r.ratios.map((x) => x.toFixed(2)).join(' ')} | ${r.spread === null ? '–' : `${Math.round(r.spread * 100)}%`} | ${fmt(r.target_rps, 0)} | ${fmt(r.versus_rps, 0)} | ${fmt(r.cpu_ratio, 3)} | ${r.goal ?? ''} | ${r.min ?? ''} | ${verdict} |`,
    )
  }
  return `${lines.join('\n')}\n`
}
