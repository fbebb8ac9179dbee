import { channel } from 'node:diagnostics_channel'
import { registerIssuerMetrics } from '@ccflow/issuer/prometheus'
import { Registry } from 'prom-client'
const end = channel('ccflow:issuer:request:end')
const registry = new Registry()
registerIssuerMetrics({ registry, ...(process.argv[2] ? { clientIds: ['bench'] } : {}) })
const msg = () => ({ route: 'token', startTime: 1, endTime: 1.3, phases: [], outcome: 'success', reason: undefined, status: 200, grantType: 'client_credentials', authMethod: 'client_secret_basic', authenticated: true, clientId: 'bench', revoked: undefined, active: undefined })
function run(n) { const c = process.cpuUsage(); for (let i = 0; i < n; i++) end.publish(msg()); const d = process.cpuUsage(c); return (d.user + d.system) * 1000 / n }
run(200000)
const r = []; for (let i = 0; i < 7; i++) r.push(run(200000))
r.sort((a, b) => a - b); console.log('record per request (ns):', r.map((x) => x.toFixed(0)).join(' '), 'median', r[3].toFixed(0))
console.log((await registry.metrics()).split('\n').filter((l) => l.startsWith('ccflow_issuer_token_requests_total')).join('\n'))
