import { describe, expect, it } from 'vitest'
import {
  DURATION_BUCKETS_SECONDS,
  labelNames,
  pickLabels,
  prometheusName,
  type MetricDefinition,
} from '../../src/observability/metrics.js'

const counter: MetricDefinition = {
  name: 'ccflow.issuer.token_requests',
  kind: 'counter',
  unit: '{request}',
  description: 'Token requests.',
  labels: ['grant_type', 'outcome'],
  perClient: true,
}

describe('prometheusName', () => {
  it('derives the name as the OpenTelemetry Prometheus exporter does', () => {
    expect(prometheusName(counter)).toBe('ccflow_issuer_token_requests_total')
    expect(
      prometheusName({
        ...counter,
        name: 'ccflow.issuer.token_request.duration',
        kind: 'histogram',
        unit: 's',
      }),
    ).toBe('ccflow_issuer_token_request_duration_seconds')
    expect(
      prometheusName({
        ...counter,
        name: 'ccflow.issuer.signing_keys',
        kind: 'gauge',
        unit: '{key}',
      }),
    ).toBe('ccflow_issuer_signing_keys')
  })

  it('puts the prefix in front', () => {
    expect(prometheusName(counter, 'shop_')).toBe('shop_ccflow_issuer_token_requests_total')
  })
})

describe('labelNames', () => {
  it('adds client_id to a per-client metric only when ids are listed', () => {
    expect(labelNames(counter, false)).toEqual(['grant_type', 'outcome'])
    expect(labelNames(counter, true)).toEqual(['grant_type', 'outcome', 'client_id'])
    expect(labelNames({ ...counter, perClient: false }, true)).toEqual(['grant_type', 'outcome'])
  })
})

describe('pickLabels', () => {
  it('keeps only the named labels that have a value', () => {
    expect(pickLabels(['outcome', 'client_id'], { outcome: 'success', grant_type: 'x' })).toEqual({
      outcome: 'success',
    })
  })
})

describe('DURATION_BUCKETS_SECONDS', () => {
  it('holds the OpenTelemetry advised boundaries for request durations', () => {
    expect(DURATION_BUCKETS_SECONDS).toEqual([
      0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
    ])
  })
})
