import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import request from 'supertest'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { GUARD_CHANNELS } from '../../src/observability/channels.js'
import { requireToken } from '../../src/require-token.js'
import { createTokenVerifier } from '../../src/verify/verifier.js'
import { accessClaims, AUDIENCE, craftToken, createApp, ISSUER, rsaKeyPair } from '../helpers.js'

const rsa = rsaKeyPair()
const STATIC = { issuer: ISSUER, audience: AUDIENCE, keys: [{ key: rsa.publicKey, kid: 'k1' }] }
const token = (claims: Record<string, unknown> = {}): string =>
  craftToken({ alg: 'RS256', typ: 'at+jwt', kid: 'k1' }, accessClaims(claims), rsa.privateKey)

const subscriptions: [string, (message: unknown) => void][] = []
function listen(name: string): unknown[] {
  const seen: unknown[] = []
  const handler = (message: unknown): void => {
    seen.push(message)
  }
  subscribe(name, handler)
  subscriptions.push([name, handler])
  return seen
}
afterEach(() => {
  for (const [name, handler] of subscriptions.splice(0)) unsubscribe(name, handler)
  vi.unstubAllEnvs()
})

describe('GUARD_CHANNELS', () => {
  it('names the channels ccflow:guard:<topic>', () => {
    expect(GUARD_CHANNELS).toEqual({
      event: 'ccflow:guard:event',
      verifyStart: 'ccflow:guard:verify:start',
      verifyEnd: 'ccflow:guard:verify:end',
      staleServed: 'ccflow:guard:jwks:stale-served',
      snapshot: 'ccflow:guard:snapshot',
    })
  })
})

describe('ccflow:guard:event', () => {
  it('receives the events of a guard with a hook, as the hook does', async () => {
    const seen = listen(GUARD_CHANNELS.event)
    const hooked: unknown[] = []
    const app = createApp(requireToken({ ...STATIC, onEvent: (e) => hooked.push(e) }))
    await request(app)
      .get('/api')
      .set('Authorization', `Bearer ${token({ aud: 'https://x' })}`)
    expect(seen).toEqual(hooked)
    expect(seen).toEqual([
      expect.objectContaining({ type: 'token_rejected', reason: 'wrong_audience' }),
    ])
  })

  it('receives refusals in production without a hook, where nothing else is built', async () => {
    vi.stubEnv('NODE_ENV', 'production')
    const verifier = createTokenVerifier(STATIC)
    await verifier.verify('x.y.z').catch(() => undefined)
    const seen = listen(GUARD_CHANNELS.event)
    await verifier.verify('x.y.z').catch(() => undefined)
    expect(seen).toEqual([{ type: 'token_rejected', reason: 'malformed' }])
  })
})

describe('ccflow:guard:verify:start and :end', () => {
  it('publish the same message, completed at the end', async () => {
    const started = listen(GUARD_CHANNELS.verifyStart)
    const startedCopies: unknown[] = []
    const copy = (m: unknown): void => void startedCopies.push({ ...(m as object) })
    subscribe(GUARD_CHANNELS.verifyStart, copy)
    subscriptions.push([GUARD_CHANNELS.verifyStart, copy])
    const ended = listen(GUARD_CHANNELS.verifyEnd)
    const app = createApp(requireToken(STATIC))
    await request(app).get('/api').set('Authorization', `Bearer ${token()}`)
    expect(started).toHaveLength(1)
    expect(ended[0]).toBe(started[0])
    expect(startedCopies[0]).toMatchObject({ outcome: undefined, endTime: undefined })
    expect(ended[0]).toMatchObject({ outcome: 'success', reason: undefined, cacheHit: false })
    const { startTime, endTime } = ended[0] as { startTime: number; endTime: number }
    expect(endTime).toBeGreaterThanOrEqual(startTime)
  })
})
