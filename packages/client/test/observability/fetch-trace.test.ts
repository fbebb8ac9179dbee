import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { afterEach, describe, expect, it } from 'vitest'
import { OAuthError, ThrottledError, TransportError } from '../../src/errors.js'
import { CLIENT_CHANNELS, type TokenFetchMessage } from '../../src/observability/channels.js'
import {
  beginFetchTrace,
  endFetchTrace,
  isAcquisitionObserved,
  outcomeOf,
  publishAcquisition,
} from '../../src/observability/fetch-trace.js'

const seen: { channel: string; message: unknown }[] = []
const listeners = new Map<string, (message: unknown) => void>()
function listen(channel: string): void {
  const listener = (message: unknown): void => {
    seen.push({ channel, message: structuredClone(message) })
  }
  listeners.set(channel, listener)
  subscribe(channel, listener)
}
afterEach(() => {
  for (const [channel, listener] of listeners) unsubscribe(channel, listener)
  listeners.clear()
  seen.length = 0
})

describe('beginFetchTrace', () => {
  it('builds nothing while nobody listens to the token-fetch channels', () => {
    expect(beginFetchTrace('k', false)).toBeUndefined()
  })

  it('publishes the started request on ccflow:client:token-fetch:start', () => {
    listen(CLIENT_CHANNELS.fetchStart)
    const trace = beginFetchTrace('k', true)
    expect(trace).toMatchObject({ key: 'k', background: true, phases: [], outcome: undefined })
    expect(seen).toEqual([{ channel: CLIENT_CHANNELS.fetchStart, message: trace }])
  })
})

describe('endFetchTrace', () => {
  function ended(error?: unknown): TokenFetchMessage {
    listen(CLIENT_CHANNELS.fetchEnd)
    const trace = beginFetchTrace('k', false) as TokenFetchMessage
    endFetchTrace(trace, error)
    return seen.at(-1)?.message as TokenFetchMessage
  }

  it('does nothing for a request that is not traced', () => {
    expect(() => endFetchTrace(undefined, new Error('x'))).not.toThrow()
  })

  it('ends a success with its end time', () => {
    const message = ended()
    expect(message).toMatchObject({ outcome: 'success', status: undefined })
    expect(message.endTime).toBeGreaterThanOrEqual(message.startTime)
  })

  it('records a transport error with its reason and status', () => {
    const error = new TransportError('http_status', 'x', { retryable: true, status: 502 })
    expect(ended(error)).toMatchObject({
      outcome: 'transport_error',
      transportReason: 'http_status',
      status: 502,
    })
  })

  it('records an OAuth error with its code and status', () => {
    expect(ended(new OAuthError('invalid_client', 401))).toMatchObject({
      outcome: 'oauth_error',
      oauthError: 'invalid_client',
      status: 401,
    })
  })

  it('records a throttled request with its status', () => {
    expect(ended(new ThrottledError(120, 429))).toMatchObject({
      outcome: 'throttled',
      status: 429,
    })
  })

  it('calls anything else aborted', () => {
    expect(ended(new DOMException('gone', 'AbortError'))).toMatchObject({ outcome: 'aborted' })
  })
})

describe('publishAcquisition', () => {
  it('publishes on ccflow:client:acquisition only while something listens', () => {
    expect(isAcquisitionObserved()).toBe(false)
    publishAcquisition('k', 'cache', 'success')
    listen(CLIENT_CHANNELS.acquisition)
    expect(isAcquisitionObserved()).toBe(true)
    publishAcquisition('k', 'network', 'oauth_error')
    expect(seen).toEqual([
      {
        channel: CLIENT_CHANNELS.acquisition,
        message: { key: 'k', source: 'network', outcome: 'oauth_error' },
      },
    ])
  })
})

describe('outcomeOf', () => {
  it('is the code of a TokenClientError, else aborted', () => {
    expect(outcomeOf(new OAuthError('invalid_scope', 400))).toBe('oauth_error')
    expect(outcomeOf(new TransportError('deadline', 'x', { retryable: true }))).toBe(
      'transport_error',
    )
    expect(outcomeOf('a string')).toBe('aborted')
  })
})
