import { afterEach, describe, expect, it, vi } from 'vitest'
import { forgetWarnings } from '@ccflow/core'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { createEmitter, isObserved, type IssuerEvent } from '../src/events.js'
import {
  COUNTED_EVENT_TYPES,
  ISSUER_CHANNELS,
  METRIC_EVENT_CHANNEL,
} from '../src/observability/channels.js'

const issued: IssuerEvent = {
  type: 'token_issued',
  clientId: 'c',
  scope: 'a',
  audience: 'https://api.example',
  jti: 'j',
  expiresAt: 1,
  ip: '127.0.0.1',
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('createEmitter', () => {
  it('calls the hook synchronously with the event', () => {
    const onEvent = vi.fn()
    createEmitter(onEvent)(issued)
    expect(onEvent).toHaveBeenCalledWith(issued)
  })

  it('swallows a throwing hook', () => {
    const emit = createEmitter(() => {
      throw new Error('boom')
    })
    expect(() => emit(issued)).not.toThrow()
  })

  it('does not leave an unhandled rejection behind when the hook returns a rejected promise', async () => {
    const unhandled = vi.fn()
    process.on('unhandledRejection', unhandled)
    try {
      const hook = (): Promise<void> => Promise.reject(new Error('async boom'))
      // The lint rule is the point: an app that passes an async hook anyway must be safe.
      // eslint-disable-next-line @typescript-eslint/no-misused-promises
      createEmitter(hook)(issued)
      await new Promise((resolve) => setTimeout(resolve, 10))
      expect(unhandled).not.toHaveBeenCalled()
    } finally {
      process.off('unhandledRejection', unhandled)
    }
  })

  it('without a hook, logs only server_error on console.error', () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    const emit = createEmitter(undefined)
    emit(issued)
    expect(log).not.toHaveBeenCalled()
    const error = new Error('store down')
    emit({ type: 'server_error', error, ip: undefined })
    expect(log).toHaveBeenCalledWith(
      'tokenEndpoint: unexpected error (the client got a generic 500)',
      error,
    )
    createEmitter(undefined, { where: 'clientSecretBasicStrategy', hasPepper: false })({
      type: 'server_error',
      error,
      ip: undefined,
    })
    expect(log).toHaveBeenLastCalledWith(
      'clientSecretBasicStrategy: unexpected error (the client got a generic 500)',
      error,
    )
  })
})

describe('createEmitter (setup diagnostics)', () => {
  const failed: IssuerEvent = {
    type: 'authentication_failed',
    reason: 'wrong_secret',
    clientId: 'billing',
    ip: undefined,
  }
  const setup = { where: 'tokenEndpoint', hasPepper: false }

  afterEach(() => {
    forgetWarnings('')
    vi.unstubAllEnvs()
  })

  it('without a hook outside production, explains a refused client in a process warning', () => {
    vi.stubEnv('NODE_ENV', 'development')
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
    createEmitter(undefined, setup)(failed)
    expect(warn).toHaveBeenCalledWith(
      expect.stringMatching(/^tokenEndpoint: refused client "billing" .*no secretPepper/),
      { code: 'CCFLOW_ISSUER_CLIENT_AUTH' },
    )
  })

  it('writes nothing in production, with a hook, or without setup facts', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
    vi.stubEnv('NODE_ENV', 'production')
    createEmitter(undefined, setup)(failed)
    vi.stubEnv('NODE_ENV', 'development')
    createEmitter(vi.fn(), setup)(failed)
    createEmitter(undefined)(failed)
    expect(warn).not.toHaveBeenCalled()
  })
})

describe('the metrics event channel', () => {
  it('carries the counted events only, so that a metrics adapter leaves token_issued unbuilt', () => {
    const emit = createEmitter(vi.fn())
    const onMessage = vi.fn()
    const limited: IssuerEvent = { type: 'rate_limited', limiter: 'failures', ip: undefined }
    const storeError: IssuerEvent = {
      type: 'store_error',
      store: 'client_store',
      error: new Error('down'),
      ip: undefined,
    }
    subscribe(METRIC_EVENT_CHANNEL, onMessage)
    try {
      expect(isObserved(createEmitter(undefined), 'token_issued')).toBe(false)
      emit(issued)
      emit(limited)
      emit(storeError)
    } finally {
      unsubscribe(METRIC_EVENT_CHANNEL, onMessage)
    }
    expect(onMessage.mock.calls.map(([event]) => event as unknown)).toEqual([limited, storeError])
    expect([...COUNTED_EVENT_TYPES].sort()).toEqual([
      'assertion_legacy_audience',
      'client_jwks',
      'rate_limited',
      'server_error',
      'store_error',
    ])
  })
})

describe('isObserved', () => {
  it('says an emitter without a hook delivers every event while the event channel has a subscriber', () => {
    const emit = createEmitter(undefined)
    const onMessage = vi.fn()
    subscribe(ISSUER_CHANNELS.event, onMessage)
    try {
      expect(isObserved(emit, 'token_issued')).toBe(true)
      emit(issued)
    } finally {
      unsubscribe(ISSUER_CHANNELS.event, onMessage)
    }
    expect(onMessage).toHaveBeenCalledWith(issued, ISSUER_CHANNELS.event)
    expect(isObserved(emit, 'token_issued')).toBe(false)
  })

  it('says an emitter without a hook delivers server_error only', () => {
    const emit = createEmitter(undefined)
    expect(isObserved(emit, 'server_error')).toBe(true)
    for (const type of [
      'token_issued',
      'authentication_failed',
      'token_request_rejected',
      'rate_limited',
    ] as const) {
      expect(isObserved(emit, type)).toBe(false)
    }
  })

  it('says an emitter with a hook, or any other function, delivers every event', () => {
    expect(isObserved(createEmitter(vi.fn()), 'token_issued')).toBe(true)
    expect(isObserved(vi.fn(), 'token_issued')).toBe(true)
  })
})
