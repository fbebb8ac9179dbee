import { channel } from 'node:diagnostics_channel'
import type { MetricLabels } from '@ccflow/core'
import { afterEach, describe, expect, it } from 'vitest'
import { CLIENT_CHANNELS } from '../../src/observability/channels.js'
import {
  CLIENT_LABEL_VALUES,
  CLIENT_METRICS,
  subscribeClientMetrics,
  type ClientMetricKey,
} from '../../src/observability/client-metrics.js'

const recorded: [ClientMetricKey, MetricLabels, number][] = []
const recorder = {
  record: (metric: ClientMetricKey, labels: MetricLabels, value: number) => {
    recorded.push([metric, labels, value])
  },
}
let stop: () => void = () => {}
afterEach(() => {
  stop()
  recorded.length = 0
})

const publish = (name: string, message: unknown): void => channel(name).publish(message)

describe('CLIENT_METRICS', () => {
  it('labels each metric only with labels that have a vocabulary', () => {
    for (const metric of Object.values(CLIENT_METRICS)) {
      for (const label of metric.labels) expect(CLIENT_LABEL_VALUES).toHaveProperty(label)
    }
  })
})

describe('subscribeClientMetrics', () => {
  it('bounds every label value by its vocabulary', () => {
    stop = subscribeClientMetrics(recorder)
    publish(CLIENT_CHANNELS.acquisition, {
      key: 'k',
      source: '/etc/passwd',
      outcome: 'x'.repeat(99),
    })
    publish(CLIENT_CHANNELS.event, { type: 'retry', reason: 'made-up' })
    publish(CLIENT_CHANNELS.fetchEnd, { startTime: 0, endTime: 1500, phases: [], outcome: 'nope' })
    expect(recorded).toEqual([
      ['acquisitions', { source: 'other', outcome: 'other' }, 1],
      ['retries', { reason: 'other' }, 1],
      ['fetchDuration', { outcome: 'other' }, 1.5],
    ])
  })

  it('times a fetch without an end time as 0 s and ignores events that have no metric', () => {
    stop = subscribeClientMetrics(recorder)
    publish(CLIENT_CHANNELS.fetchEnd, { startTime: 5, phases: [], outcome: 'success' })
    publish(CLIENT_CHANNELS.event, { type: 'acquired', key: 'k', source: 'cache' })
    publish(CLIENT_CHANNELS.event, { type: 'throttled', key: 'k', status: 429 })
    expect(recorded).toEqual([
      ['fetchDuration', { outcome: 'success' }, 0],
      ['throttled', {}, 1],
    ])
  })

  it('records nothing once unsubscribed', () => {
    subscribeClientMetrics(recorder)()
    publish(CLIENT_CHANNELS.event, { type: 'throttled' })
    expect(recorded).toEqual([])
  })
})
