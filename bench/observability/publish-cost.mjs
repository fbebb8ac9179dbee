// What the diagnostics channels cost (issue 14), measured in process, paired:
//
// 1. The request trace alone: the calls one token request makes into the channel machinery
//    (start, four timed steps, end) with nobody subscribed, and with the Prometheus adapter
//    subscribed (which then records three metrics per request). Alternating slices of 200 000
//    calls; the median per-call time of each side.
// 2. A whole token request over HTTP (keep-alive, one connection, ES256, in this process):
//    alternating slices of 300 requests with the adapter detached and attached; the median of
//    the per-pair ratios.
//
// `pnpm --filter bench observability` (build the packages first: `pnpm build`).
import express from 'express'
import { Buffer } from 'node:buffer'
import { Agent, request } from 'node:http'
import { performance } from 'node:perf_hooks'
import {
  beginPhase,
  endPhase,
  isOperationObserved,
  operationChannels,
  publishEnd,
  publishStart,
} from '@ccflow/core'
import {
  generateClientSecret,
  generateSigningKey,
  hashClientSecret,
  staticClientStore,
  tokenEndpoint,
} from '@ccflow/issuer'
import { registerIssuerMetrics } from '@ccflow/issuer/prometheus'
import { Registry } from 'prom-client'

const PAIRS = Number(process.argv[2] ?? 9)
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

// The channel pair the issuer publishes requests on (ISSUER_CHANNELS.requestStart / requestEnd).
const channels = operationChannels('issuer', 'request')

/** What the token route does per request, through the same core functions. */
function traceOneRequest() {
  if (!isOperationObserved(channels)) return
  const message = {
    route: 'token',
    startTime: performance.now(),
    endTime: undefined,
    phases: [],
    outcome: undefined,
    reason: undefined,
    status: 0,
    grantType: undefined,
    authMethod: undefined,
    authenticated: false,
    clientId: undefined,
    revoked: undefined,
    active: undefined,
  }
  publishStart(channels, message)
  for (const [name, detail] of [
    ['rate_limit', 'failures'],
    ['client_authentication', undefined],
    ['rate_limit', 'issuance'],
    ['sign', undefined],
  ]) {
    endPhase(beginPhase(message, name, detail))
  }
  message.status = 200
  message.outcome = 'success'
  message.grantType = 'client_credentials'
  message.authMethod = 'client_secret_basic'
  message.authenticated = true
  message.clientId = 'bench'
  publishEnd(channels, message)
}

function slice(calls) {
  const start = performance.now()
  for (let i = 0; i < calls; i++) traceOneRequest()
  return ((performance.now() - start) * 1e6) / calls // ns per call
}

const registry = new Registry()
let stop = () => {}
const attach = () => {
  stop = registerIssuerMetrics({ registry })
}
const detach = () => {
  stop()
  stop = () => {}
}

// 1. The trace machinery.
const idle = []
const observed = []
slice(200_000)
attach()
slice(200_000)
detach()
for (let pair = 0; pair < PAIRS; pair++) {
  const order = pair % 2 === 0 ? ['idle', 'observed'] : ['observed', 'idle']
  for (const side of order) {
    if (side === 'observed') attach()
    ;(side === 'idle' ? idle : observed).push(slice(200_000))
    if (side === 'observed') detach()
  }
}
console.log(`request trace, nobody subscribed:        ${median(idle).toFixed(1)} ns per request`)
console.log(
  `request trace, Prometheus adapter on:    ${(median(observed) / 1000).toFixed(2)} µs per request`,
)

// 2. A whole token request.
const { secret, secretId } = generateClientSecret()
const clients = staticClientStore([
  {
    client_id: 'bench',
    scope: 'read',
    audiences: ['https://api.example'],
    secrets: [{ id: secretId, hash: await hashClientSecret(secret) }],
  },
])
const app = express().use(
  tokenEndpoint({
    issuer: 'http://127.0.0.1',
    clients,
    keys: [generateSigningKey('ES256')],
    rateLimit: false,
  }),
)
const server = app.listen(0, '127.0.0.1')
await new Promise((resolve) => server.once('listening', resolve))
const { port } = server.address()
const agent = new Agent({ keepAlive: true, maxSockets: 1 })
const headers = {
  authorization: `Basic ${Buffer.from(`bench:${secret}`).toString('base64')}`,
  'content-type': 'application/x-www-form-urlencoded',
}
const post = () =>
  new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/token', method: 'POST', headers, agent },
      (res) => {
        res.resume()
        res.on('end', resolve)
      },
    )
    req.on('error', reject)
    req.end('grant_type=client_credentials')
  })
async function requests(n) {
  const start = performance.now()
  for (let i = 0; i < n; i++) await post()
  return (performance.now() - start) / n // ms per request
}
await requests(500)
const ratios = []
const plain = []
const metered = []
for (let pair = 0; pair < PAIRS; pair++) {
  const first = pair % 2 === 0
  let off
  let on
  if (first) {
    off = await requests(300)
    attach()
    on = await requests(300)
    detach()
  } else {
    attach()
    on = await requests(300)
    detach()
    off = await requests(300)
  }
  plain.push(off)
  metered.push(on)
  ratios.push(on / off)
}
agent.destroy()
server.close()
console.log(
  `token request over HTTP: ${(median(plain) * 1000).toFixed(0)} µs without, ` +
    `${(median(metered) * 1000).toFixed(0)} µs with the adapter; ` +
    `median ratio ${median(ratios).toFixed(3)} (spread ${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)})`,
)
