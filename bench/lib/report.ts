// Turns the per-run samples into the table of issue 6: medians, ratios, goals; Markdown + JSON.
import type { CheckResult } from './checks.js'
import { SPEED_GOALS, type Kind, type Target } from './targets.js'

export interface Sample {
  rps: number
  p50Ms: number
  p99Ms: number
  /** VmHWM of the server process after the run, MB. */
  peakMb: number
  /** Server CPU time (user + system) in the measured window ÷ completed requests, µs, or NaN. */
  cpuUsPerReq: number
}

export interface TargetOutcome {
  target: Target
  samples: Sample[]
  /** Why the target was excluded (failed check, start failure, errors under load). */
  excluded?: string
  failedChecks?: CheckResult[]
}

/** One row of bench/results/latest.json (the first seven fields are the issue's format). */
export interface Row {
  name: string
  kind: Kind
  rps: number
  p50_ms: number
  p99_ms: number
  ratio_to_ceiling: number | null
  rss_mb: number
  ratio_to_best_peer: number | null
  best_peer: string | null
  role: Target['role']
  alg: string | null
  runs_rps: number[]
  /** (max − min) / median of the runs' req/s: the noise to read the ratios against. */
  spread: number | null
  /** Median over runs of the server's CPU time per request, µs (null without /proc). */
  cpu_us_per_req: number | null
  /** The ceiling's cpu_us_per_req ÷ this row's: higher is better, like ratio_to_ceiling. */
  cpu_ratio_to_ceiling: number | null
  runs_cpu_us_per_req: (number | null)[]
}

export interface Goal {
  goal: string
  target: string
  versus: string
  min: number
  ratio: number | null
  pass: boolean | null
  /** versus's CPU µs/request ÷ target's: informational, the verdict is on req/s (`ratio`). */
  cpu_ratio: number | null
}

export interface Report {
  meta: Record<string, string | number | boolean>
  targets: Row[]
  excluded: { name: string; kind: Kind; reason: string }[]
  goals: Goal[]
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  if (sorted.length === 0) return Number.NaN
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? Number.NaN)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2
}

const round = (value: number, digits: number): number => {
  const f = 10 ** digits
  return Math.round(value * f) / f
}

const CEILING = 'ceiling/express'

/** Issue 16's goals, here from the unpaired medians (paired mode gives the verdict that holds). */
const GOALS = SPEED_GOALS

export function buildReport(
  outcomes: readonly TargetOutcome[],
  meta: Record<string, string | number | boolean>,
): Report {
  const measured = outcomes.filter((o) => o.excluded === undefined && o.samples.length > 0)
  // Unrounded CPU medians, so that the ratios do not inherit the table's rounding.
  const cpuOf = new Map<string, number>()
  const rows: Row[] = measured.map((o) => {
    const runs = o.samples.map((s) => s.rps)
    const rps = median(runs)
    const cpuRuns = o.samples.map((s) => s.cpuUsPerReq)
    const cpu = median(cpuRuns.filter((c) => !Number.isNaN(c)))
    if (!Number.isNaN(cpu) && cpu > 0) cpuOf.set(o.target.name, cpu)
    return {
      name: o.target.name,
      kind: o.target.kind,
      rps: Math.round(rps),
      p50_ms: round(median(o.samples.map((s) => s.p50Ms)), 2),
      p99_ms: round(median(o.samples.map((s) => s.p99Ms)), 2),
      ratio_to_ceiling: null,
      rss_mb: round(median(o.samples.map((s) => s.peakMb)), 1),
      ratio_to_best_peer: null,
      best_peer: null,
      role: o.target.role,
      alg: o.target.alg ?? null,
      runs_rps: runs.map((r) => Math.round(r)),
      spread: runs.length > 1 ? round((Math.max(...runs) - Math.min(...runs)) / rps, 3) : null,
      cpu_us_per_req: Number.isNaN(cpu) ? null : round(cpu, 1),
      cpu_ratio_to_ceiling: null,
      runs_cpu_us_per_req: cpuRuns.map((c) => (Number.isNaN(c) ? null : round(c, 1))),
    }
  })
  /** b's CPU µs/request ÷ a's: higher means a costs less CPU per request than b. */
  const cpuRatio = (a: string, b: string): number | null => {
    const ca = cpuOf.get(a)
    const cb = cpuOf.get(b)
    return ca === undefined || cb === undefined ? null : round(cb / ca, 3)
  }
  const byName = new Map(rows.map((r) => [r.name, r]))
  const ceiling = byName.get(CEILING)
  for (const row of rows) {
    if (ceiling) {
      row.ratio_to_ceiling = round(row.rps / ceiling.rps, 3)
      row.cpu_ratio_to_ceiling = cpuRatio(row.name, CEILING)
    }
    if (row.kind === 'ceiling') continue
    // The best peer of the same kind, preferring peers that sign/verify with the same algorithm.
    const peers = rows.filter((r) => r.kind === row.kind && r.role === 'peer')
    const sameAlg = peers.filter((r) => r.alg === row.alg)
    const pool = sameAlg.length > 0 ? sameAlg : peers
    const best = pool.reduce<Row | undefined>((a, r) => (a && a.rps >= r.rps ? a : r), undefined)
    if (best) {
      row.best_peer = best.name
      row.ratio_to_best_peer = round(row.rps / best.rps, 3)
    }
  }
  const goals = GOALS.map((g): Goal => {
    const a = byName.get(g.target)
    const b = byName.get(g.versus)
    const ratio = a && b ? round(a.rps / b.rps, 3) : null
    const pass = ratio === null ? null : ratio >= g.min
    return { ...g, ratio, pass, cpu_ratio: cpuRatio(g.target, g.versus) }
  })
  const excluded = outcomes
    .filter((o) => o.excluded !== undefined)
    .map((o) => ({ name: o.target.name, kind: o.target.kind, reason: o.excluded ?? '' }))
  return { meta, targets: rows, excluded, goals }
}

const fmt = (value: number | null, digits = 2): string =>
  value === null || Number.isNaN(value) ? '–' : value.toFixed(digits)

export function renderMarkdown(report: Report): string {
  const lines: string[] = []
  lines.push('# ccflow benchmark (issue 6)', '')
  for (const [k, v] of Object.entries(report.meta)) lines.push(`- ${k}: ${String(v)}`)
  lines.push(
    '',
    '| target | req/s | p50 ms | p99 ms | × ceiling | CPU µs/req | CPU × ceiling | × best peer | best peer | peak RSS MB | spread |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |',
  )
  for (const r of report.targets) {
    lines.push(
      `| ${r.name} | ${r.rps} | ${fmt(r.p50_ms)} | ${fmt(r.p99_ms)} | ${fmt(r.ratio_to_ceiling)} | ${fmt(r.cpu_us_per_req, 1)} | ${fmt(r.cpu_ratio_to_ceiling)} | ${fmt(r.ratio_to_best_peer)} | ${r.best_peer ?? '–'} | ${fmt(r.rss_mb, 1)} | ${r.spread === null ? '–' : `${Math.round(r.spread * 100)}%`} |`,
    )
  }
  if (report.excluded.length > 0) {
    lines.push('', '## Excluded (not loaded or not counted)', '')
    for (const e of report.excluded) lines.push(`- ${e.name}: ${e.reason}`)
  }
  lines.push(
    '',
    '## Goals from issue 16 (unpaired medians; `--paired` gives the verdict)',
    '',
    'The verdict is on the req/s ratio; the CPU ratio (versus’s CPU µs/req ÷ target’s) is for information.',
    '',
    '| goal | target | versus | ratio | min | result | CPU ratio |',
    '| --- | --- | --- | ---: | ---: | --- | ---: |',
  )
  for (const g of report.goals) {
    const result = g.pass === null ? 'not measured' : g.pass ? 'PASS' : 'FAIL'
    lines.push(
      `| ${g.goal} | ${g.target} | ${g.versus} | ${fmt(g.ratio, 3)} | ${g.min} | ${result} | ${fmt(g.cpu_ratio, 3)} |`,
    )
  }
  return `${lines.join('\n')}\n`
}

/** The JSON written to bench/results/latest.json. */
export function renderJson(report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`
}
