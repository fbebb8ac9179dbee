// @ccflow/issuer/postgres micro-benchmark (issue 15): what a client lookup costs on a cache miss
// (one round trip to PostgreSQL) and on a hit, and how long a registry change takes to reach a
// running store through LISTEN/NOTIFY.
//
// In-process, against the PostgreSQL at DATABASE_URL (default the local server), in a database
// of its own that is dropped at the end. `pnpm --filter bench postgres [--clients N]`.
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { hashClientSecret, type Client } from '@ccflow/issuer'
import { migrate, postgresClientRegistry, postgresClientStore } from '@ccflow/issuer/postgres'
import pg from 'pg'

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const arg = process.argv.indexOf('--clients')
const CLIENTS = arg > 0 ? Number(process.argv[arg + 1]) : 2000
const CHANGES = 200

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}

function summary(samples: number[], unit: 'ms' | 'µs'): string {
  const sorted = [...samples].sort((a, b) => a - b)
  const scale = unit === 'ms' ? 1 : 1000
  const f = (v: number): string => (v * scale).toFixed(unit === 'ms' ? 3 : 2)
  return `p50 ${f(percentile(sorted, 50))} ${unit}, p99 ${f(percentile(sorted, 99))} ${unit} (n=${samples.length})`
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

const name = `ccflow_bench_${randomBytes(6).toString('hex')}`
await admin(`CREATE DATABASE ${name}`)
const url = new URL(DATABASE_URL)
url.pathname = `/${name}`
const pool = new pg.Pool({ connectionString: url.href, max: 4 })
try {
  await migrate(pool)
  const hash = await hashClientSecret(`ccs_k1_${'x'.repeat(43)}`)
  const records: Client[] = Array.from({ length: CLIENTS }, (_, i) => ({
    client_id: `client-${i}`,
    scope: 'orders:read orders:write',
    audiences: ['https://api.example.com'],
    secrets: [
      { id: 'k1', hash },
      { id: 'k2', hash, expires_at: 4_000_000_000 },
    ],
  }))
  const registry = postgresClientRegistry({ pool, actor: 'bench' })
  await registry.importClients(records)
  await pool.query('ANALYZE')

  const store = postgresClientStore({ pool, cacheTtlMs: 3_600_000, maxCachedClients: CLIENTS })
  await store.ready()
  // Warm the connections and the plan cache on ids outside the measured set.
  for (let i = 0; i < 200; i++) await store.findClient(`warm-up-${i}`)

  const cold: number[] = []
  for (const { client_id } of records) {
    const start = performance.now()
    await store.findClient(client_id)
    cold.push(performance.now() - start)
  }
  const warm: number[] = []
  for (let round = 0; round < 5; round++) {
    for (const { client_id } of records) {
      const start = performance.now()
      await store.findClient(client_id)
      warm.push(performance.now() - start)
    }
  }

  // NOTIFY: from the start of registry.disable()/enable() to the first lookup that sees it.
  const listener = new pg.Client({ connectionString: url.href })
  await listener.connect()
  await listener.query('LISTEN ccflow_clients')
  const toNotification: number[] = []
  const toStore: number[] = []
  const committed: number[] = []
  for (let i = 0; i < CHANGES; i++) {
    const id = `client-${Math.floor(i / 2) % CLIENTS}`
    // Disable on even rounds, enable again on odd ones: each round is a real change.
    const disabled = i % 2 === 0
    await store.findClient(id)
    const heard = new Promise<number>((resolve) =>
      listener.once('notification', () => resolve(performance.now())),
    )
    const start = performance.now()
    const change = disabled ? registry.disable(id) : registry.enable(id)
    await change
    committed.push(performance.now() - start)
    while (((await store.findClient(id))?.disabled === true) !== disabled) {
      await new Promise((resolve) => setImmediate(resolve))
    }
    toStore.push(performance.now() - start)
    toNotification.push((await heard) - start)
  }
  await listener.end()
  await store.close()

  console.log(
    `PostgreSQL client store, ${CLIENTS} clients (${DATABASE_URL.replace(/\/\/[^@]*@/, '//')})`,
  )
  console.log(`  cold lookup (cache miss, one round trip): ${summary(cold, 'ms')}`)
  console.log(`  warm lookup (cache hit):                  ${summary(warm, 'µs')}`)
  console.log(`  registry change (transaction):            ${summary(committed, 'ms')}`)
  console.log(`  change -> NOTIFY received:                ${summary(toNotification, 'ms')}`)
  console.log(`  change -> store sees it:                  ${summary(toStore, 'ms')}`)
} finally {
  await pool.end()
  await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
}
