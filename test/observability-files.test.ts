import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { registerGuardMetrics } from '@ccflow/guard/prometheus'
import { registerIssuerMetrics } from '@ccflow/issuer/prometheus'
import { collectDefaultMetrics, Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { ROOT } from './support/processes.js'

// The files operators copy: every metric they name must be one the servers export.
const DIR = resolve(ROOT, 'examples/observability')
const alertsText = readFileSync(resolve(DIR, 'alerts.yml'), 'utf8')
const dashboardText = readFileSync(resolve(DIR, 'grafana-dashboard.json'), 'utf8')

/**
 * Every series name the example servers can export, read from real registries: the issuer's and
 * the guard's Prometheus adapters and the Node.js process metrics (histograms as their
 * `_bucket`, `_sum` and `_count` series).
 */
async function exportedNames(): Promise<Set<string>> {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  registerIssuerMetrics({ registry })
  registerGuardMetrics({ registry })
  const names = new Set<string>()
  for (const metric of await registry.getMetricsAsJSON()) {
    if (String(metric.type) === 'histogram') {
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${metric.name}${suffix}`)
    } else {
      names.add(metric.name)
    }
  }
  return names
}

/** The metric names a PromQL expression uses (ccflow's and the process metrics). */
function metricsIn(expr: string): string[] {
  return [...expr.matchAll(/\b(?:ccflow|process|nodejs)_[a-z0-9_]+\b/g)].map((m) => m[0])
}

/** Prometheus's own checker, when installed (the `prometheus` package of most distributions). */
const PROMTOOL = (() => {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()

interface AlertRule {
  alert: string
  expr: string
  for?: string
  labels?: { severity?: string }
  annotations?: { summary?: string }
}

describe('examples/observability', () => {
  it('has Prometheus alert rules for auth failures by reason, JWKS age, store errors and p99 token latency', async () => {
    const file = parse(alertsText) as { groups: { name: string; rules: AlertRule[] }[] }
    const rules = file.groups.flatMap((group) => group.rules)
    const known = await exportedNames()
    for (const rule of rules) {
      expect(rule.alert).toMatch(/^Ccflow[A-Za-z0-9]+$/)
      expect(['warning', 'critical']).toContain(rule.labels?.severity)
      expect(rule.annotations?.summary).toBeTruthy()
      const used = metricsIn(rule.expr)
      expect(used.length, rule.alert).toBeGreaterThan(0)
      for (const name of used) expect(known, `${rule.alert} uses ${name}`).toContain(name)
    }
    const exprOf = (alert: string) => rules.find((rule) => rule.alert === alert)?.expr ?? ''
    expect(exprOf('CcflowClientAuthFailureRatioHigh')).toMatch(
      /sum by \(reason\) \(rate\(ccflow_issuer_client_authentications_total\{outcome="failure"\}/,
    )
    expect(exprOf('CcflowGuardTokenFailureRatioHigh')).toMatch(
      /sum by \(reason\) \(rate\(ccflow_guard_requests_total/,
    )
    expect(exprOf('CcflowGuardJwksStale')).toContain(
      'time() - ccflow_guard_jwks_last_success_timestamp_seconds',
    )
    expect(exprOf('CcflowIssuerStoreErrors')).toContain('ccflow_issuer_store_errors_total')
    expect(exprOf('CcflowTokenLatencyP99High')).toMatch(
      /histogram_quantile\(0\.99,\s+sum by \(le\) \(rate\(ccflow_issuer_token_request_duration_seconds_bucket/,
    )
  })

  it('has a Grafana dashboard whose every query names metrics that exist', async () => {
    const dashboard = JSON.parse(dashboardText) as {
      uid: string
      panels: { type: string; title: string; targets?: { expr: string }[] }[]
    }
    expect(dashboard.uid).toBe('ccflow-overview')
    const known = await exportedNames()
    const used = new Set<string>()
    for (const panel of dashboard.panels) {
      if (panel.type === 'row') continue
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0)
      for (const { expr } of panel.targets ?? []) {
        const names = metricsIn(expr)
        expect(names.length, `${panel.title}: ${expr}`).toBeGreaterThan(0)
        for (const name of names) used.add(name)
      }
    }
    for (const name of used) expect(known, `the dashboard uses ${name}`).toContain(name)
    // Every ccflow metric the servers export has a panel.
    const ccflow = [...known].filter((name) => name.startsWith('ccflow_'))
    const shown = (name: string): boolean =>
      used.has(name) || [...used].some((u) => u.startsWith(name.replace(/_(sum|count)$/, '')))
    expect(ccflow.filter((name) => !shown(name))).toEqual([])
  })

  it('names only metrics that exist anywhere in the files, not just in queries', async () => {
    const known = await exportedNames()
    const unknown = metricsIn(alertsText + dashboardText).filter((name) => !known.has(name))
    expect(unknown).toEqual([])
  })

  it.skipIf(!PROMTOOL)(
    'passes promtool check rules, the dashboard queries too (skipped: promtool is not installed)',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'ccflow-promtool-'))
      try {
        const dashboard = JSON.parse(dashboardText) as {
          panels: { targets?: { expr: string }[] }[]
        }
        // The dashboard's queries as recording rules, with Grafana's variables filled in.
        const rules = dashboard.panels
          .flatMap((panel) => panel.targets ?? [])
          .map(({ expr }, i) => ({
            record: `ccflow:dashboard_query_${i}`,
            expr: expr.replaceAll('$__rate_interval', '5m').replaceAll('$job', '.*'),
          }))
        const queries = join(dir, 'dashboard-queries.yml')
        writeFileSync(queries, stringify({ groups: [{ name: 'dashboard', rules }] }))
        const output = execFileSync(
          'promtool',
          ['check', 'rules', resolve(DIR, 'alerts.yml'), queries],
          { encoding: 'utf8' },
        )
        expect(output).toContain(`SUCCESS: ${rules.length} rules found`)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    },
  )
})
