import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { performance } from 'node:perf_hooks'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  beginPhase,
  endPhase,
  epochMilliseconds,
  isOperationObserved,
  operationChannels,
  phaseListFor,
  publishEnd,
  publishStart,
  UNTIMED_PHASES,
  type OperationMessage,
  type OperationPhase,
} from '../../src/observability/operation.js'

const channels = operationChannels('issuer', 'test-operation')

function message(): OperationMessage {
  return { startTime: performance.now(), endTime: undefined, phases: [] }
}

describe('operationChannels', () => {
  it('names the :start and :end channels of the operation', () => {
    expect(channels.start.name).toBe('ccflow:issuer:test-operation:start')
    expect(channels.end.name).toBe('ccflow:issuer:test-operation:end')
  })
})

describe('isOperationObserved', () => {
  it('is true while either channel has a subscriber, false otherwise', () => {
    const onEnd = (): void => {}
    expect(isOperationObserved(channels)).toBe(false)
    subscribe(channels.end.name, onEnd)
    expect(isOperationObserved(channels)).toBe(true)
    unsubscribe(channels.end.name, onEnd)
    expect(isOperationObserved(channels)).toBe(false)
  })
})

describe('publishStart and publishEnd', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('publish nothing when nobody subscribes', () => {
    const start = vi.spyOn(channels.start, 'publish')
    const end = vi.spyOn(channels.end, 'publish')
    const m = message()
    publishStart(channels, m)
    publishEnd(channels, m)
    expect(start).not.toHaveBeenCalled()
    expect(end).not.toHaveBeenCalled()
  })

  it('publish the same object at start and, with its end time, at end', () => {
    const seen: [string, OperationMessage, number | undefined][] = []
    const onStart = (m: unknown): void => {
      seen.push(['start', m as OperationMessage, (m as OperationMessage).endTime])
    }
    const onEnd = (m: unknown): void => {
      seen.push(['end', m as OperationMessage, (m as OperationMessage).endTime])
    }
    subscribe(channels.start.name, onStart)
    subscribe(channels.end.name, onEnd)
    const m = message()
    try {
      publishStart(channels, m)
      publishEnd(channels, m)
    } finally {
      unsubscribe(channels.start.name, onStart)
      unsubscribe(channels.end.name, onEnd)
    }
    expect(seen.map(([what, msg]) => [what, msg])).toEqual([
      ['start', m],
      ['end', m],
    ])
    expect(seen[0]?.[2]).toBeUndefined()
    expect(seen[1]?.[2]).toBeGreaterThanOrEqual(m.startTime)
  })

  it('keeps an end time set before publishEnd', () => {
    const m = message()
    m.endTime = m.startTime + 5
    publishEnd(channels, m)
    expect(m.endTime).toBe(m.startTime + 5)
  })
})

describe('beginPhase and endPhase', () => {
  it('records a step with its detail, times and failure', () => {
    const m = message()
    const phase = beginPhase(m, 'rate_limit', 'failures') as OperationPhase
    expect(m.phases).toEqual([phase])
    expect(phase).toMatchObject({ name: 'rate_limit', detail: 'failures', failed: false })
    expect(phase.endTime).toBeUndefined()
    endPhase(phase, true)
    const ended = phase.endTime
    expect(ended).toBeGreaterThanOrEqual(phase.startTime)
    expect(phase.failed).toBe(true)
    endPhase(phase)
    expect([phase.endTime, phase.failed]).toEqual([ended, true])
  })

  it('closes a step still running at the end as failed, at the end time', () => {
    const m = message()
    const done = beginPhase(m, 'client_authentication') as OperationPhase
    endPhase(done)
    const running = beginPhase(m, 'rate_limit', 'issuance')
    publishEnd(channels, m)
    expect(done.failed).toBe(false)
    expect(running).toMatchObject({ endTime: m.endTime, failed: true })
  })
})

describe('phaseListFor', () => {
  it('times steps only while something listens on :start (a tracer), not for :end alone', () => {
    const onStart = (): void => {}
    const onEnd = (): void => {}
    subscribe(channels.end.name, onEnd)
    try {
      const untimed: OperationMessage = {
        startTime: performance.now(),
        endTime: undefined,
        phases: phaseListFor(channels),
      }
      expect(untimed.phases).toBe(UNTIMED_PHASES)
      const step = beginPhase(untimed, 'sign')
      expect(step).toBeUndefined()
      endPhase(step, true)
      publishEnd(channels, untimed)
      expect(untimed.phases).toEqual([])

      subscribe(channels.start.name, onStart)
      const timed: OperationMessage = {
        startTime: performance.now(),
        endTime: undefined,
        phases: phaseListFor(channels),
      }
      expect(timed.phases).not.toBe(UNTIMED_PHASES)
      const signing = beginPhase(timed, 'sign')
      expect(timed.phases).toEqual([signing])
    } finally {
      unsubscribe(channels.start.name, onStart)
      unsubscribe(channels.end.name, onEnd)
    }
  })

  it('cannot be written to: the shared empty list is frozen', () => {
    expect(Object.isFrozen(UNTIMED_PHASES)).toBe(true)
  })
})

describe('epochMilliseconds', () => {
  it('converts a performance.now() time to epoch milliseconds', () => {
    const before = Date.now()
    const converted = epochMilliseconds(performance.now())
    expect(converted).toBeGreaterThanOrEqual(before - 1)
    expect(converted).toBeLessThanOrEqual(Date.now() + 1)
  })
})
