// Soak mode: a fixed duration of mixed valid and invalid traffic against one app that holds a
// ccflow token endpoint and a ccflow-guarded route. Every response is checked against the
// status it must have; RSS is sampled throughout and must stay flat (within 10%).
import { writeFileSync, mkdirSync } from 'node:fs'
import { Agent } from 'node:http'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runChecks, type GuardTokens } from './checks.js'
import {
  accessClaims,
  basicAuth,
  mintToken,
  ROUTE,
  TOKEN_PATH,
  TOKEN_REQUEST_BODY,
  type Alg,
  type Fixtures,
} from './fixtures.js'
import { parseJson, send, type HttpRequest } from './http.js'
import { memoryOf, startServer } from './processes.js'
import type { Target } from './targets.js'

interface RequestKind {
  name: string
  status: number
  make(): Omit<HttpRequest, 'port' | 'agent'>
  /** Called with the response body of a request that had the expected status. */
  onOk?(body: string): void
}

export interface SoakOptions {
  fixtures: Fixtures
  tokens: Record<Alg, GuardTokens>
  seconds: number
  scratch: string
}

const CONCURRENCY = 16
const GROWTH_LIMIT = 0.1

function caseHeader(tokens: GuardTokens, name: string): Record<string, string> {
  const c = tokens.cases.find((x) => x.name === name)
  if (!c) throw new Error(`no guard case ${name}`)
  return c.authorization === undefined ? {} : { authorization: c.authorization }
}

function requestKinds(fixtures: Fixtures, tokens: Record<Alg, GuardTokens>): RequestKind[] {
  // Fresh tokens churn the verified-token cache; issued tokens close the loop issuer → guard.
  const fresh = [
    ...Array.from({ length: 4000 }, () => mintToken(fixtures.keys.RS256, accessClaims())),
    ...Array.from({ length: 1000 }, () => mintToken(fixtures.keys.ES256, accessClaims())),
  ]
  let next = 0
  const issued: string[] = []
  const rs = tokens.RS256
  const get = (headers: Record<string, string>) => () => ({
    method: 'GET' as const,
    path: ROUTE,
    headers,
  })
  const post =
    (authorization: string, body = TOKEN_REQUEST_BODY) =>
    () => ({
      method: 'POST' as const,
      path: TOKEN_PATH,
      headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
      body,
    })
  const good = basicAuth(fixtures.client.id, fixtures.client.secret)
  const kinds: [number, RequestKind][] = [
    [
      6,
      {
        name: 'guard: fresh valid token',
        status: 200,
        make: () => {
          next = (next + 1) % fresh.length
          return get({ authorization: `Bearer ${fresh[next]}` })()
        },
      },
    ],
    [
      2,
      { name: 'guard: reused valid token', status: 200, make: get(caseHeader(rs, 'valid token')) },
    ],
    [
      2,
      {
        name: 'guard: token from the endpoint',
        status: 200,
        make: () => {
          const token = issued[Math.floor(Math.random() * issued.length)] ?? rs.valid
          return get({ authorization: `Bearer ${token}` })()
        },
      },
    ],
    [1, { name: 'guard: no token', status: 401, make: get({}) }],
    [
      1,
      {
        name: 'guard: tampered signature',
        status: 401,
        make: get(caseHeader(rs, 'tampered signature')),
      },
    ],
    [1, { name: 'guard: expired token', status: 401, make: get(caseHeader(rs, 'expired token')) }],
    [
      1,
      { name: 'guard: wrong audience', status: 401, make: get(caseHeader(rs, 'wrong audience')) },
    ],
    [1, { name: 'guard: missing scope', status: 403, make: get(caseHeader(rs, 'missing scope')) }],
    [
      1,
      { name: 'guard: garbage token', status: 401, make: get({ authorization: 'Bearer abc.def' }) },
    ],
    [
      2,
      {
        name: 'token: good client',
        status: 200,
        make: post(good),
        onOk: (body) => {
          const token = (parseJson(body) as { access_token?: unknown } | undefined)?.access_token
          if (typeof token !== 'string') return
          if (issued.length < 64) issued.push(token)
          else issued[Math.floor(Math.random() * 64)] = token
        },
      },
    ],
    [
      1,
      {
        name: 'token: wrong secret',
        status: 401,
        make: post(basicAuth(fixtures.client.id, `${fixtures.client.secret.slice(0, -4)}AAAA`)),
      },
    ],
    [
      1,
      {
        name: 'token: unsupported grant type',
        status: 400,
        make: post(good, 'grant_type=password&username=a&password=b'),
      },
    ],
  ]
  return kinds.flatMap(([weight, kind]) => Array.from({ length: weight }, () => kind))
}

interface Tally {
  count: number
  wrong: number
  sample?: string
}

export async function runSoak(o: SoakOptions): Promise<number> {
  console.log(`soak: ${o.seconds} s of mixed traffic, ${CONCURRENCY} connections`)
  const server = await startServer('soak', {}, o.fixtures.file)
  try {
    const asTarget = (kind: 'guard' | 'issuer'): Target => ({
      name: `soak/${kind}`,
      kind,
      role: 'ccflow',
      alg: 'RS256',
      server: 'soak',
      options: {},
      load: 'plain',
      description: '',
    })
    const checks = [
      ...(await runChecks(asTarget('guard'), server.port, o.fixtures, o.tokens)),
      ...(await runChecks(asTarget('issuer'), server.port, o.fixtures, o.tokens)),
    ]
    const bad = checks.filter((c) => !c.ok)
    if (bad.length > 0) {
      for (const c of bad) console.log(`  ✗ ${c.name}: ${c.detail}`)
      console.log('soak: the app fails its behaviour checks; not soaking it')
      return 1
    }
    const kinds = requestKinds(o.fixtures, o.tokens)
    const tallies = new Map<string, Tally>()
    let socketErrors = 0
    let firstSocketError = ''
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY })
    const started = Date.now()
    const deadline = started + o.seconds * 1000
    const samples: { second: number; rssMb: number }[] = []
    const readyMemory = memoryOf(server.pid)
    const sampler = setInterval(() => {
      const m = memoryOf(server.pid)
      if (m) samples.push({ second: Math.round((Date.now() - started) / 1000), rssMb: m.rssMb })
    }, 1000)

    const worker = async (offset: number): Promise<void> => {
      let i = offset
      while (Date.now() < deadline) {
        const kind = kinds[i++ % kinds.length] as RequestKind
        const tally = tallies.get(kind.name) ?? { count: 0, wrong: 0 }
        tallies.set(kind.name, tally)
        try {
          const res = await send({ ...kind.make(), port: server.port, agent, timeoutMs: 10_000 })
          tally.count++
          if (res.status === kind.status) kind.onOk?.(res.body)
          else {
            tally.wrong++
            tally.sample ??= `got ${res.status}: ${res.body.slice(0, 120)}`
          }
        } catch (err) {
          socketErrors++
          firstSocketError ||= err instanceof Error ? err.message : String(err)
        }
      }
    }
    const progress = setInterval(() => {
      const done = [...tallies.values()].reduce((n, t) => n + t.count, 0)
      const rss = samples.at(-1)?.rssMb.toFixed(1) ?? '?'
      console.log(
        `  ${Math.round((Date.now() - started) / 1000)} s: ${done} requests, RSS ${rss} MB`,
      )
    }, 10_000)
    await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => worker(i * 7)))
    clearInterval(sampler)
    clearInterval(progress)
    agent.destroy()

    // RSS "at start" is taken once the traffic has run for a sixth of the soak (at least 10 s,
    // at most half): by then the JIT, the verified-token LRU (full after ~1000 fresh tokens)
    // and the heap have warmed up. "At end" is the last sample.
    const warmSecond = Math.min(Math.max(10, Math.round(o.seconds / 6)), Math.floor(o.seconds / 2))
    const start = samples.find((s) => s.second >= warmSecond) ?? samples[0]
    const end = samples.at(-1)
    const peak = Math.max(...samples.map((s) => s.rssMb))
    const growth = start && end ? (end.rssMb - start.rssMb) / start.rssMb : Number.NaN
    const total = [...tallies.values()].reduce((n, t) => n + t.count, 0)
    const wrong = [...tallies.values()].reduce((n, t) => n + t.wrong, 0)
    const seconds = (Date.now() - started) / 1000

    const lines = [
      '# ccflow soak',
      '',
      `- date: ${new Date().toISOString()}`,
      `- duration: ${seconds.toFixed(1)} s, ${CONCURRENCY} keep-alive connections, ${total} requests (${Math.round(total / seconds)} req/s)`,
      `- RSS after start-up: ${readyMemory?.rssMb.toFixed(1) ?? '?'} MB`,
      `- RSS at start (t=${start?.second ?? '?'} s): ${start?.rssMb.toFixed(1) ?? '?'} MB; at end (t=${end?.second ?? '?'} s): ${end?.rssMb.toFixed(1) ?? '?'} MB; peak ${peak.toFixed(1)} MB`,
      `- growth: ${(growth * 100).toFixed(1)}% (limit ${GROWTH_LIMIT * 100}%)${growth > GROWTH_LIMIT ? ' **FLAGGED**' : ''}`,
      `- unexpected statuses: ${wrong}; socket errors: ${socketErrors}${firstSocketError ? ` (first: ${firstSocketError})` : ''}`,
      '',
      '| request | expected | count | unexpected | first unexpected |',
      '| --- | ---: | ---: | ---: | --- |',
    ]
    for (const kind of new Set(kinds)) {
      const t = tallies.get(kind.name) ?? { count: 0, wrong: 0 }
      lines.push(
        `| ${kind.name} | ${kind.status} | ${t.count} | ${t.wrong} | ${t.sample?.replace(/\|/g, '\\|') ?? ''} |`,
      )
    }
    lines.push(
      '',
      `RSS samples (s: MB): ${samples
        .filter((s) => s.second % 5 === 0)
        .map((s) => `${s.second}: ${s.rssMb.toFixed(1)}`)
        .join(', ')}`,
    )
    const markdown = `${lines.join('\n')}\n`
    console.log(`\n${markdown}`)
    const resultsDir = fileURLToPath(new URL('../results/', import.meta.url))
    mkdirSync(resultsDir, { recursive: true })
    writeFileSync(join(resultsDir, 'soak.md'), markdown)
    writeFileSync(
      join(resultsDir, 'soak.json'),
      `${JSON.stringify(
        {
          seconds,
          requests: total,
          unexpected: wrong,
          socket_errors: socketErrors,
          rss_ready_mb: readyMemory?.rssMb ?? null,
          rss_start_mb: start?.rssMb ?? null,
          rss_end_mb: end?.rssMb ?? null,
          rss_peak_mb: peak,
          growth,
          flagged: growth > GROWTH_LIMIT,
          by_request: Object.fromEntries(tallies),
          samples,
        },
        null,
        2,
      )}\n`,
    )
    console.log('written: bench/results/soak.md, bench/results/soak.json')
    const failed = wrong > 0 || socketErrors > 0 || !(growth <= GROWTH_LIMIT)
    console.log(failed ? 'soak: FAILED' : 'soak: ok')
    return failed ? 1 : 0
  } finally {
    await server.stop()
  }
}
