// Authentication timing check (issue 18): does a refused client authentication cost the same
// whatever the reason? Unknown client, wrong secret, a secret id the client does not have, a
// disabled client and an expired secret are sent interleaved in random order over one
// keep-alive connection to a token endpoint in its own process; each kind's median and 10th
// percentile are compared with the unknown client's, with a 95 % bootstrap interval. The check
// fails when an interval lies more than 2 µs away from zero: a difference a patient caller could
// use to tell which client ids exist.
//
// `pnpm --filter bench timing [--per-kind N] [--post]`; the full `pnpm bench` runs it too.
import { spawn } from 'node:child_process'
import { Agent, request } from 'node:http'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const KINDS = [
  'unknown_client',
  'wrong_secret',
  'unknown_secret_id',
  'disabled_client',
  'expired_secret',
] as const
type Kind = (typeof KINDS)[number]
const BASELINE: Kind = 'unknown_client'
/** An interval further than this from zero fails the check, in microseconds. */
export const TIMING_TOLERANCE_US = 2
const BOOTSTRAP_ROUNDS = 1000

interface Started {
  port: number
  secrets: { normal: string; disabled: string; expired: string }
  stop: () => Promise<void>
}

async function startServer(): Promise<Started> {
  const script = fileURLToPath(new URL('./server.mjs', import.meta.url))
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] })
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string]
  const { port, secrets } = JSON.parse(line) as Omit<Started, 'stop'>
  return {
    port,
    secrets,
    stop: async () => {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      await once(child, 'exit')
    },
  }
}

/** How a kind's credentials travel: an HTTP Basic header, or (`--post`) `id\nsecret` for the body. */
let usePost = false
const basic = (id: string, secret: string): string =>
  usePost
    ? `${id}\n${secret}`
    : `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`

/** The Authorization header of each kind: every kind presents a generated-format secret. */
function headersFor(secrets: Started['secrets']): Record<Kind, string> {
  const tail = secrets.normal.slice(-43)
  const flipped = `${secrets.normal.slice(0, -1)}${secrets.normal.endsWith('A') ? 'B' : 'A'}`
  return {
    unknown_client: basic('svc-nobody', secrets.normal),
    wrong_secret: basic('svc', flipped),
    unknown_secret_id: basic('svc', `ccs_000000000000_${tail}`),
    disabled_client: basic('svc-disabled', secrets.disabled),
    expired_secret: basic('svc-expired', secrets.expired),
  }
}

const BODY = 'grant_type=client_credentials'

function timeOne(agent: Agent, port: number, authorization: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint()
    const post = usePost
    const [id, secret] = authorization.split('\n')
    const body = post
      ? `${BODY}&client_id=${encodeURIComponent(id as string)}&client_secret=${encodeURIComponent(secret as string)}`
      : BODY
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port,
        path: '/token',
        method: 'POST',
        headers: {
          ...(post ? {} : { authorization }),
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': String(body.length),
        },
      },
      (res) => {
        res.resume()
        res.on('end', () => {
          if (res.statusCode !== 401) reject(new Error(`expected 401, got ${res.statusCode}`))
          else resolve(Number(process.hrtime.bigint() - started) / 1000)
        })
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

function shuffled<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[items[i], items[j]] = [items[j] as T, items[i] as T]
  }
  return items
}

function quantile(sorted: Float64Array, q: number): number {
  const position = (sorted.length - 1) * q
  const low = Math.floor(position)
  const high = Math.ceil(position)
  return (
    (sorted[low] as number) +
    ((sorted[high] as number) - (sorted[low] as number)) * (position - low)
  )
}

function resampleQuantiles(samples: Float64Array): { median: number; p10: number } {
  const draw = new Float64Array(samples.length)
  for (let i = 0; i < draw.length; i++)
    draw[i] = samples[Math.floor(Math.random() * samples.length)] as number
  draw.sort()
  return { median: quantile(draw, 0.5), p10: quantile(draw, 0.1) }
}

/** Difference of medians and of 10th percentiles (kind − baseline) with 95 % bootstrap bounds. */
function compare(kind: Float64Array, base: Float64Array): { median: number[]; p10: number[] } {
  const medians: number[] = []
  const p10s: number[] = []
  for (let round = 0; round < BOOTSTRAP_ROUNDS; round++) {
    const a = resampleQuantiles(kind)
    const b = resampleQuantiles(base)
    medians.push(a.median - b.median)
    p10s.push(a.p10 - b.p10)
  }
  const bounds = (values: number[]): number[] => {
    const sorted = Float64Array.from(values).sort()
    return [quantile(sorted, 0.025), quantile(sorted, 0.975)]
  }
  return { median: bounds(medians), p10: bounds(p10s) }
}

export interface TimingResult {
  ok: boolean
  lines: string[]
}

/** Runs the check and returns whether it passed, with its report lines. */
export async function runAuthTiming(
  perKind = 4000,
  { warmup = 2000, post = false }: { warmup?: number; post?: boolean } = {},
): Promise<TimingResult> {
  usePost = post
  const server = await startServer()
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  try {
    const headers = headersFor(server.secrets)
    for (let i = 0; i < warmup; i++) {
      await timeOne(agent, server.port, headers[KINDS[i % KINDS.length] as Kind])
    }
    const order = shuffled(KINDS.flatMap((kind) => Array<Kind>(perKind).fill(kind)))
    const samples = Object.fromEntries(KINDS.map((kind) => [kind, [] as number[]])) as Record<
      Kind,
      number[]
    >
    for (const kind of order) samples[kind].push(await timeOne(agent, server.port, headers[kind]))
    const sorted = Object.fromEntries(
      KINDS.map((kind) => [kind, Float64Array.from(samples[kind]).sort()]),
    ) as Record<Kind, Float64Array>
    const base = sorted[BASELINE]
    const fmt = (n: number): string => n.toFixed(1).padStart(7)
    const lines = [
      `auth timing (${post ? 'client_secret_post' : 'client_secret_basic'}): ${perKind} requests per kind, interleaved in random order, one connection; µs`,
      `${'kind'.padEnd(18)} ${'median'.padStart(7)} ${'p10'.padStart(7)}   Δmedian [95 % CI]          Δp10 [95 % CI]`,
    ]
    let ok = true
    for (const kind of KINDS) {
      const s = sorted[kind]
      let tail = '   (baseline)'
      if (kind !== BASELINE) {
        const d = compare(s, base)
        const off = (b: number[]): boolean =>
          (b[0] as number) > TIMING_TOLERANCE_US || (b[1] as number) < -TIMING_TOLERANCE_US
        const bad = off(d.median) || off(d.p10)
        if (bad) ok = false
        const dm = quantile(s, 0.5) - quantile(base, 0.5)
        const dp = quantile(s, 0.1) - quantile(base, 0.1)
        tail = `   ${fmt(dm)} [${fmt(d.median[0] as number)},${fmt(d.median[1] as number)}]   ${fmt(dp)} [${fmt(d.p10[0] as number)},${fmt(d.p10[1] as number)}]${bad ? '  ✗' : ''}`
      }
      lines.push(`${kind.padEnd(18)} ${fmt(quantile(s, 0.5))} ${fmt(quantile(s, 0.1))}${tail}`)
    }
    lines.push(
      ok
        ? `auth timing: pass (every interval within ${TIMING_TOLERANCE_US} µs of zero)`
        : `auth timing: FAIL (an interval lies more than ${TIMING_TOLERANCE_US} µs from zero)`,
    )
    return { ok, lines }
  } finally {
    agent.destroy()
    await server.stop()
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--per-kind')
  const perKind = i === -1 ? 4000 : Number(process.argv[i + 1])
  if (!Number.isInteger(perKind) || perKind < 100) {
    console.error('usage: pnpm --filter bench timing [--per-kind N (≥ 100)] [--post]')
    process.exit(2)
  }
  const result = await runAuthTiming(perKind, { post: process.argv.includes('--post') })
  for (const line of result.lines) console.log(line)
  process.exitCode = result.ok ? 0 : 1
}
