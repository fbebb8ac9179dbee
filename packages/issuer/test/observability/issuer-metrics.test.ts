import { channel } from 'node:diagnostics_channel'
import { readFileSync } from 'node:fs'
import { prometheusName } from '@ccflow/core'
import { afterEach, describe, expect, it } from 'vitest'
import { TemporarilyUnavailableError } from '../../src/errors.js'
import {
  ISSUER_LABEL_VALUES,
  ISSUER_METRICS,
  subscribeIssuerMetrics,
  type IssuerMetricKey,
} from '../../src/observability/issuer-metrics.js'
import { ISSUER_CHANNELS, METRIC_EVENT_CHANNEL } from '../../src/observability/channels.js'

const recorded: [IssuerMetricKey, Record<string, string>, number][] = []
const recorder = {
  record(metric: IssuerMetricKey, labels: Record<string, string>, value: number) {
    recorded.push([metric, { ...labels }, value])
  },
}
let stop: () => void = () => undefined
afterEach(() => {
  stop()
  recorded.length = 0
})

const publish = (name: string, message: unknown): void => channel(name).publish(message)

describe('ISSUER_METRICS', () => {
  it('names every metric ccflow.issuer.* with labels that have a vocabulary', () => {
    for (const metric of Object.values(ISSUER_METRICS)) {
      expect(metric.name).toMatch(/^ccflow\.issuer\.[a-z_.]+$/)
      for (const label of metric.labels) {
        const known = Object.keys(ISSUER_LABEL_VALUES).some(
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
    const rows = [...table.matchAll(/^\| `(ccflow_issuer_\w+)` +\| `(ccflow\.issuer\.[\w.]+)`/gm)]
    expect(rows.map(([, prometheus, otel]) => [prometheus, otel])).toEqual(
      Object.values(ISSUER_METRICS).map((metric) => [prometheusName(metric), metric.name]),
    )
  })
})

describe('subscribeIssuerMetrics', () => {
  it('turns any value a foreign publisher makes up into other', () => {
    stop = subscribeIssuerMetrics(recorder, undefined)
    publish(ISSUER_CHANNELS.requestEnd, {
      route: 'token',
      startTime: 0,
      endTime: 1000,
      phases: [],
      outcome: '/etc/passwd',
      reason: 'x'.repeat(100),
      grantType: 'urn:made-up',
      authMethod: 'magic',
      authenticated: true,
      clientId: 'c-123',
    })
    publish(METRIC_EVENT_CHANNEL, { type: 'rate_limited', limiter: 'made-up', ip: undefined })
    expect(recorded).toEqual([
      ['clientAuthentications', { method: 'other', outcome: 'success', reason: 'none' }, 1],
      ['tokenRequests', { grant_type: 'other', outcome: 'other' }, 1],
      ['tokenRequestDuration', { outcome: 'other' }, 1],
      ['rateLimited', { limiter: 'other' }, 1],
    ])
  })

  it('hands the recorder one frozen labels object per label set, the same one each time', () => {
    const seen: [IssuerMetricKey, Readonly<Record<string, string>>][] = []
    stop = subscribeIssuerMetrics(
      { record: (metric, labels) => seen.push([metric, labels]) },
      (id) => (id === 'billing' ? id : 'other'),
    )
    const message = (clientId: string, outcome: string) => ({
      route: 'token',
      startTime: 0,
      endTime: 2,
      phases: [],
      outcome,
      reason: outcome === 'success' ? undefined : 'wrong_secret',
      grantType: 'client_credentials',
      authMethod: 'client_secret_basic',
      authenticated: outcome === 'success',
      clientId,
    })
    publish(ISSUER_CHANNELS.requestEnd, message('billing', 'success'))
    publish(ISSUER_CHANNELS.requestEnd, message('billing', 'success'))
    publish(ISSUER_CHANNELS.requestEnd, message('x-1', 'invalid_client'))
    publish(ISSUER_CHANNELS.requestEnd, message('x-2', 'invalid_client'))
    expect(seen).toHaveLength(12)
    for (const [, labels] of seen) expect(Object.isFrozen(labels)).toBe(true)
    expect(seen[3]?.[1]).toBe(seen[0]?.[1])
    expect(seen[4]?.[1]).toBe(seen[1]?.[1])
    expect(seen[9]?.[1]).toBe(seen[6]?.[1])
    expect(seen[0]?.[1]).toEqual({
      method: 'client_secret_basic',
      outcome: 'success',
      reason: 'none',
      client_id: 'billing',
    })
    expect(seen[6]?.[1]).toEqual({
      method: 'client_secret_basic',
      outcome: 'failure',
      reason: 'wrong_secret',
      client_id: 'other',
    })
    expect(seen[2]).toEqual(['tokenRequestDuration', { outcome: 'success' }])
  })

  it('times a message without an end time as 0 s', () => {
    stop = subscribeIssuerMetrics(recorder, undefined)
    publish(ISSUER_CHANNELS.requestEnd, {
      route: 'token',
      startTime: 5,
      phases: [],
      outcome: 'success',
    })
    expect(recorded).toContainEqual(['tokenRequestDuration', { outcome: 'success' }, 0])
  })

  it('counts a 503 only when a store caused it', () => {
    stop = subscribeIssuerMetrics(recorder, undefined)
    const event = (error: unknown) => ({ type: 'server_error', error, ip: undefined })
    publish(METRIC_EVENT_CHANNEL, event(new TemporarilyUnavailableError('client_store')))
    publish(METRIC_EVENT_CHANNEL, event(new TemporarilyUnavailableError('extra_claims')))
    publish(METRIC_EVENT_CHANNEL, event(new Error('bug')))
    expect(recorded).toEqual([['storeErrors', { store: 'client_store' }, 1]])
  })

  it('counts a store failure that answered no 503, its store bounded', () => {
    stop = subscribeIssuerMetrics(recorder, undefined)
    const event = (store: string) => ({ type: 'store_error', store, error: new Error('down') })
    publish(METRIC_EVENT_CHANNEL, event('rate_limit'))
    publish(METRIC_EVENT_CHANNEL, event('client_store'))
    publish(METRIC_EVENT_CHANNEL, event('made-up'))
    expect(recorded).toEqual([
      ['storeErrors', { store: 'rate_limit' }, 1],
      ['storeErrors', { store: 'client_store' }, 1],
      ['storeErrors', { store: 'other' }, 1],
    ])
  })

  it('ignores a skipped client key and events that have no metric', () => {
    stop = subscribeIssuerMetrics(recorder, undefined)
    publish(METRIC_EVENT_CHANNEL, {
      type: 'client_jwks',
      jwksUri: 'https://client.example/jwks',
      detail: {
        type: 'jwks_key_skipped',
        uri: 'https://client.example/jwks',
        kid: 'k',
        reason: 'x',
      },
    })
    publish(METRIC_EVENT_CHANNEL, { type: 'token_issued', clientId: 'c', ip: undefined })
    publish(ISSUER_CHANNELS.requestEnd, { route: 'made-up', phases: [], startTime: 0, endTime: 0 })
    expect(recorded).toEqual([])
  })

  it('adds the client_id label through the allow-list only', () => {
    stop = subscribeIssuerMetrics(recorder, (id) => (id === 'billing' ? id : 'other'))
    publish(METRIC_EVENT_CHANNEL, {
      type: 'assertion_legacy_audience',
      clientId: 'billing',
      ip: undefined,
    })
    publish(METRIC_EVENT_CHANNEL, {
      type: 'assertion_legacy_audience',
      clientId: 'x',
      ip: undefined,
    })
    expect(recorded).toEqual([
      ['legacyAudience', { client_id: 'billing' }, 1],
      ['legacyAudience', { client_id: 'other' }, 1],
    ])
  })
})
