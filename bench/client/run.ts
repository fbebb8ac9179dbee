// @ccflow/client micro-benchmark (issue 13): what `getToken()` costs on a warm cache, beside a
// bare `Map.get` (the floor of any cache lookup) and an awaited `Map.get` of a settled promise
// (the floor of any async API), and how many token requests a cold fleet of concurrent callers makes.
//
// In-process, no load generator. Each variant runs in slices of SLICE calls; the slices of all
// variants alternate (the order rotating every round) so that whatever else runs on the machine
// slows them alike, and each variant's figure is the median of its slices.
//
// `pnpm --filter bench client [--rounds N]`; the end of every full `pnpm bench` runs it too.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { createTokenClient, type TokenClient } from '@ccflow/client'

const SLICE = 20_000
const FLEET = 10_000

interface TokenServer {
  url: string
  requests(): number
  close(): Promise<void>
}

/** A token endpoint on 127.0.0.1:0 that counts requests and answers after `delayMs`. */
async function tokenServer(delayMs: number): Promise<TokenServer> {
  let count = 0
  const server: Server = createServer((req, res) => {
    count++
    req.resume()
    req.on('end', () => {
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        res.end(
          JSON.stringify({
            access_token: `token-${count}`,
            token_type: 'Bearer',
            expires_in: 3600,
          }),
        )
      }, delayMs)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`,
    requests: () => count,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/** Nanoseconds per call of one slice of `body`. */
type Slice = () => number | Promise<number>

/** The result of a run: printable lines, and the medians by variant (ns per call). */
export interface ClientBenchResult {
  lines: string[]
  medians: Record<string, number>
  fleetRequests: number
}

function newClient(endpoint: string): TokenClient {
  return createTokenClient({
    tokenEndpoint: endpoint,
    clientId: 'bench',
    clientSecret: 'bench-secret',
    scope: 'orders:read',
  })
}

/** Runs the micro-benchmark: `rounds` slices per variant, then the cold-fleet count. */
export async function runClientBench(rounds = 31): Promise<ClientBenchResult> {
  const server = await tokenServer(0)
  const tokens = newClient(server.url)
  try {
    await tokens.getToken()
    await tokens.getToken({ scope: 'orders:write' })
    const entry = { value: 'token', expiresAt: Date.now() + 3_600_000 }
    const map = new Map([['orders:read', entry]])
    // A cache of settled promises: the floor of any API that answers with a promise.
    const promises = new Map([['orders:read', Promise.resolve(entry)]])
    let sink = 0
    const variants: Record<string, Slice> = {
      'Map.get': () => {
        const start = process.hrtime.bigint()
        for (let i = 0; i < SLICE; i++) sink += map.get('orders:read')?.value.length ?? 0
        return Number(process.hrtime.bigint() - start) / SLICE
      },
      'await Map.get (promise)': async () => {
        const start = process.hrtime.bigint()
        for (let i = 0; i < SLICE; i++)
          sink += (await promises.get('orders:read'))?.value.length ?? 0
        return Number(process.hrtime.bigint() - start) / SLICE
      },
      'getToken()': async () => {
        const start = process.hrtime.bigint()
        for (let i = 0; i < SLICE; i++) sink += (await tokens.getToken()).value.length
        return Number(process.hrtime.bigint() - start) / SLICE
      },
      "getToken({ scope: 'orders:write' })": async () => {
        const start = process.hrtime.bigint()
        for (let i = 0; i < SLICE; i++) {
          sink += (await tokens.getToken({ scope: 'orders:write' })).value.length
        }
        return Number(process.hrtime.bigint() - start) / SLICE
      },
    }
    const names = Object.keys(variants)
    // Warm-up: every variant a few slices, so each is compiled before it is measured.
    for (let i = 0; i < 3; i++) for (const name of names) await variants[name]?.()
    const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]))
    for (let round = 0; round < rounds; round++) {
      for (let j = 0; j < names.length; j++) {
        const name = names[(round + j) % names.length] as string
        samples[name]?.push(await (variants[name] as Slice)())
      }
    }
    if (sink === 0) throw new Error('client bench: nothing was read')
    const requestsBefore = server.requests()
    if (requestsBefore !== 2) throw new Error(`client bench: ${requestsBefore} token requests`)

    // The fleet: FLEET concurrent getToken() calls on a cold cache, one client.
    const fleetServer = await tokenServer(50)
    const fleet = newClient(fleetServer.url)
    let fleetRequests: number
    try {
      const got = await Promise.all(Array.from({ length: FLEET }, () => fleet.getToken()))
      fleetRequests = fleetServer.requests()
      if (new Set(got.map((t) => t.value)).size !== 1) {
        throw new Error('client bench: the fleet got different tokens')
      }
    } finally {
      await fleet.close()
      await fleetServer.close()
    }

    const medians = Object.fromEntries(names.map((n) => [n, median(samples[n] ?? [])]))
    const width = Math.max(...names.map((n) => n.length))
    const lines = [
      `client: warm cache, ns per call, median of ${rounds} alternating slices × ${SLICE} calls`,
      ...names.map(
        (n) => `  ${n.padEnd(width)} ${(medians[n] as number).toFixed(0).padStart(6)} ns`,
      ),
      `client: ${FLEET} concurrent getToken() calls on a cold cache → ${fleetRequests} token request${fleetRequests === 1 ? '' : 's'}`,
    ]
    return { lines, medians, fleetRequests }
  } finally {
    await tokens.close()
    await server.close()
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--rounds')
  const rounds = i === -1 ? 31 : Number(process.argv[i + 1])
  if (!Number.isInteger(rounds) || rounds < 3) {
    console.error('usage: pnpm --filter bench client [--rounds N (≥ 3)]')
    process.exit(2)
  }
  const result = await runClientBench(rounds)
  for (const line of result.lines) console.log(line)
}
