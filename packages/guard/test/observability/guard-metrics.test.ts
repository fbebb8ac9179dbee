import { channel } from 'node:diagnostics_channel'
import { readFileSync } from 'node:fs'
import { prometheusName } from '@ccflow/core'
import { afterEach, describe, expect, it } from 'vitest'
import {
  GUARD_LABEL_VALUES,
  GUARD_METRICS,
  subscribeGuardMetrics,
  type GuardMetricKey,
} from '../../src/observability/guard-metrics.js'
import { GUARD_CHANNELS } from '../../src/observability/channels.js'

const recorded: [GuardMetricKey, Record<string, string>, number][] = []
const recorder = {
  record(metric: GuardMetricKey, labels: Record<string, string>, value: number) {
    recorded.push([metric, { ...labels }, value])
  },
}
let stop: () => void = () => undefined
afterEach(() => {
  stop()
  recorded.length = 0
})

const publish = (name: string, message: unknown): void => channel(name).publish(message)

describe('GUARD_METRICS', () => {
  it('has exactly the Prometheus names of issue 14', () => {
    expect(Object.values(GUARD_METRICS).map((metric) => prometheusName(metric))).toEqual([
      'ccflow_guard_requests_total',
      'ccflow_guard_verify_duration_seconds',
      'ccflow_guard_jwks_fetches_total',
      'ccflow_guard_jwks_last_success_timestamp_seconds',
      'ccflow_guard_jwks_keys',
      'ccflow_guard_jwks_stale_served_total',
      'ccflow_guard_token_cache_hits_total',
    ])
  })

  it('names every metric ccflow.guard.* with labels that have a vocabulary', () => {
    for (const metric of Object.values(GUARD_METRICS)) {
      expect(metric.name).toMatch(/^ccflow\.guard\.[a-z_.]+$/)
      for (const label of metric.labels) {
        const known = Object.keys(GUARD_LABEL_VALUES).some(
          (v) => v === label || v.endsWith(`_${label}`),
        )
        expect(known, label).toBe(true)
      }
    }
  })
})

describe('the README', () => {
  it('lists exactly these metrics, by both names', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
    const table = readme.slice(readme.indexOf('### Metrics'), readme.indexOf('### Labels'))
    const rows = [...table.matchAll(/^\| `(ccflow_guard_\w+)` +\| `(ccflow\.guard\.[\w.]+)`/gm)]
    expect(rows.map(([, prometheus, otel]) => [prometheus, otel])).toEqual(
      Object.values(GUARD_METRICS).map((metric) => [prometheusName(metric), metric.name]),
    )
  })
})

describe('subscribeGuardMetrics', () => {
  it('turns any value a foreign publisher makes up into other', () => {
    stop = subscribeGuardMetrics(recorder)
    publish(GUARD_CHANNELS.verifyEnd, {
      startTime: 0,
      endTime: 2,
      phases: [],
      outcome: 'made_up',
      reason: 'Bearer eyJhbGciOi',
      cacheHit: false,
    })
    publish(GUARD_CHANNELS.event, { type: 'jwks_fetch_failed', reason: 'https://x/y' })
    expect(recorded).toEqual([
      ['requests', { outcome: 'other', reason: 'other' }, 1],
      ['verifyDuration', {}, 0.002],
      ['jwksFetches', { outcome: 'other' }, 1],
    ])
  })

  it('records no duration for a message that never ended and ignores other events', () => {
    stop = subscribeGuardMetrics(recorder)
    publish(GUARD_CHANNELS.verifyEnd, {
      startTime: 0,
      endTime: undefined,
      phases: [],
      outcome: 'success',
      reason: undefined,
      cacheHit: true,
    })
    publish(GUARD_CHANNELS.event, { type: 'token_rejected', reason: 'bad_signature' })
    publish(GUARD_CHANNELS.event, { type: 'jwks_key_skipped', reason: 'unsupported_key' })
    expect(recorded).toEqual([
      ['requests', { outcome: 'success', reason: 'none' }, 1],
      ['tokenCacheHits', {}, 1],
    ])
  })

  it('records nothing once unsubscribed', () => {
    subscribeGuardMetrics(recorder)()
    publish(GUARD_CHANNELS.staleServed, { type: 'jwks_stale_served' })
    expect(recorded).toEqual([])
  })
})
