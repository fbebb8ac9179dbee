import { channel, subscribe, unsubscribe } from 'node:diagnostics_channel'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { channelName, subscribeChannels } from '../../src/observability/channels.js'

describe('channelName', () => {
  it('names a channel ccflow:<component>:<topic>', () => {
    expect(channelName('issuer', 'event')).toBe('ccflow:issuer:event')
    expect(channelName('guard', 'verify:start')).toBe('ccflow:guard:verify:start')
    expect(channelName('client', 'token-fetch:end')).toBe('ccflow:client:token-fetch:end')
  })

  it.each(['', 'Event', 'request start', 'request:', ':end', 'a--b', 'a_b'])(
    'throws a TypeError for the topic %j',
    (topic) => {
      expect(() => channelName('issuer', topic)).toThrow(TypeError)
    },
  )
})

describe('subscribeChannels', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('delivers each channel to its handler until the returned function is called', () => {
    const seen: unknown[] = []
    const stop = subscribeChannels({
      'ccflow:test:a': (message) => seen.push(['a', message]),
      'ccflow:test:b': (message) => seen.push(['b', message]),
    })
    channel('ccflow:test:a').publish(1)
    channel('ccflow:test:b').publish(2)
    stop()
    stop()
    channel('ccflow:test:a').publish(3)
    expect(seen).toEqual([
      ['a', 1],
      ['b', 2],
    ])
    expect(channel('ccflow:test:a').hasSubscribers).toBe(false)
  })

  it('keeps a throwing handler from reaching the publisher, and warns once', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
    const after = vi.fn()
    const stop = subscribeChannels({
      'ccflow:test:throws': () => {
        throw new Error('observer bug')
      },
    })
    subscribe('ccflow:test:throws', after)
    try {
      expect(() => channel('ccflow:test:throws').publish({})).not.toThrow()
      channel('ccflow:test:throws').publish({})
    } finally {
      stop()
      unsubscribe('ccflow:test:throws', after)
    }
    expect(after).toHaveBeenCalledTimes(2)
    expect(warn).toHaveBeenCalledTimes(1)
    expect(warn.mock.calls[0]?.[0]).toMatch(/ccflow:test:throws: observer bug/)
    expect(warn.mock.calls[0]?.[1]).toEqual({ code: 'CCFLOW_OBSERVER_ERROR' })
  })

  it('reports a thrown value that is not an Error as text', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
    const stop = subscribeChannels({
      'ccflow:test:throws-text': () => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        throw 'plain text'
      },
    })
    try {
      channel('ccflow:test:throws-text').publish({})
    } finally {
      stop()
    }
    expect(warn.mock.calls[0]?.[0]).toMatch(/ccflow:test:throws-text: plain text$/)
  })
})
