// What the guard's Prometheus adapter costs on the verified-token cache-hit path (issue 14),
// measured in process, paired:
//
// 1. The middleware alone: `requireToken`'s handler called directly with one reused token (a
//    cache hit, answered synchronously), with the adapter detached and attached. Alternating
//    slices of 100 000 calls; the median CPU time per call of each side.
// 2. A whole guarded GET over HTTP (keep-alive, one connection, in this process): alternating
//    slices of 500 requests with the adapter detached and attached; the CPU time per request
//    (client and server: both run here, so the server's own share of the loss is larger than the
//    ratio shown, by at most the client's share) and the median of the per-pair ratios.
//
// `pnpm --filter bench observability:guard [pairs]` (build the packages first: `pnpm build`).
import { Buffer } from 'node:buffer'
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto'
import { Agent, request } from 'node:http'
import { requireScopes, requireToken } from '@ccflow/guard'
import { registerGuardMetrics } from '@ccflow/guard/prometheus'
import express from 'express'
import { Registry } from 'prom-client'

const PAIRS = Number(process.argv[2] ?? 9)
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

const ISSUER = 'https://auth.example.com'
const AUDIENCE = 'https://api.example.com'
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url')
const now = Math.floor(Date.now() / 1000)
const input = `${part({ alg: 'RS256', typ: 'at+jwt', kid: 'k1' })}.${part({
  iss: ISSUER,
  sub: 'bench',
  client_id: 'bench',
  aud: AUDIENCE,
  scope: 'read:orders',
  iat: now,
  exp: now + 3600,
  jti: randomUUID(),
})}`
const token = `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`

const guard = requireToken({
  issuer: ISSUER,
  audience: AUDIENCE,
  keys: [{ key: publicKey, kid: 'k1' }],
})

const registry = new Registry()
let stop = () => {}
const attach = () => {
  stop = registerGuardMetrics({ registry })
}
const detach = () => {
  stop()
  stop = () => {}
}

/** Runs `measure` in alternating order with the adapter detached and attached, `PAIRS` times. */
async function paired(measure) {
  const off = []
  const on = []
  for (let pair = 0; pair < PAIRS; pair++) {
    const order = pair % 2 === 0 ? ['off', 'on'] : ['on', 'off']
    for (const side of order) {
      if (side === 'on') attach()
      ;(side === 'off' ? off : on).push(await measure())
      if (side === 'on') detach()
    }
  }
  return { off, on, ratios: on.map((value, i) => value / off[i]) }
}

// 1. The middleware on a cache hit, no HTTP.
const req = {
  method: 'GET',
  url: '/orders',
  headers: { authorization: `Bearer ${token}` },
  rawHeaders: ['Authorization', `Bearer ${token}`],
}
const res = {}
let passed = 0
const next = (error) => {
  if (error !== undefined) throw error
  passed++
}
// CPU time, not wall time: on a shared machine the process is descheduled at random, and that
// time belongs to neither side.
const cpu = () => {
  const { user, system } = process.cpuUsage()
  return user + system // µs
}
function slice(calls) {
  const start = cpu()
  for (let i = 0; i < calls; i++) guard(req, res, next)
  return ((cpu() - start) * 1000) / calls // ns per call
}
slice(100_000)
attach()
slice(100_000)
detach()
const direct = await paired(() => slice(100_000))
if (passed === 0) throw new Error('the guard never passed the request')
console.log(
  `cache hit, middleware only: ${median(direct.off).toFixed(0)} ns without, ` +
    `${median(direct.on).toFixed(0)} ns with the adapter ` +
    `(+${(median(direct.on) - median(direct.off)).toFixed(0)} ns per request)`,
)

// 2. A whole guarded GET.
const app = express()
app.get('/orders', guard, requireScopes('read:orders'), (_req, response) => {
  response.json({ orders: [] })
})
const server = app.listen(0, '127.0.0.1')
await new Promise((resolve) => server.once('listening', resolve))
const { port } = server.address()
const agent = new Agent({ keepAlive: true, maxSockets: 1 })
const headers = { authorization: `Bearer ${token}` }
const get = () =>
  new Promise((resolve, reject) => {
    const r = request({ host: '127.0.0.1', port, path: '/orders', headers, agent }, (response) => {
      if (response.statusCode !== 200) reject(new Error(`status ${response.statusCode}`))
      response.resume()
      response.on('end', resolve)
    })
    r.on('error', reject)
    r.end()
  })
async function requests(n) {
  const start = cpu()
  for (let i = 0; i < n; i++) await get()
  return (cpu() - start) / n // CPU µs per request, server and client (both in this process)
}
await requests(1000)
const http = await paired(() => requests(500))
agent.destroy()
server.close()
const ratio = median(http.ratios)
console.log(
  `cache hit over HTTP: ${median(http.off).toFixed(0)} µs without, ` +
    `${median(http.on).toFixed(0)} µs with the adapter (CPU, client included); ` +
    `median ratio ${ratio.toFixed(3)} ` +
    `(spread ${Math.min(...http.ratios).toFixed(3)}–${Math.max(...http.ratios).toFixed(3)}), ` +
    `${((1 - 1 / ratio) * 100).toFixed(1)} % fewer requests per CPU second`,
)
