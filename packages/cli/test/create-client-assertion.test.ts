import { createPrivateKey, createPublicKey } from 'node:crypto'
import type { Jwk } from '@ccflow/core'
import { verifyJwsSignature } from '@ccflow/core'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  CLIENT_ASSERTION_TYPE,
  createClientAssertion,
  DEFAULT_ASSERTION_LIFETIME_SECONDS,
  MAX_ASSERTION_LIFETIME_SECONDS,
} from '../src/create-client-assertion.js'
import { generateClientKey } from '../src/generate-client-key.js'
import type { ClientKey } from '../src/read-client-key.js'

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0)

function decode(token: string): { header: unknown; payload: Record<string, unknown> } {
  const [header, payload] = token.split('.')
  return {
    header: JSON.parse(Buffer.from(header ?? '', 'base64url').toString()) as unknown,
    payload: JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as Record<
      string,
      unknown
    >,
  }
}

function clientKey(kid: string | undefined): { key: ClientKey; publicJwk: Jwk } {
  const { privateJwk, publicJwks } = generateClientKey('ES256', 'k1')
  return {
    key: { key: createPrivateKey({ key: privateJwk, format: 'jwk' }), alg: 'ES256', kid },
    publicJwk: publicJwks.keys[0],
  }
}

describe('createClientAssertion', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(NOW)
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  const claims = { clientId: 'billing', audience: 'https://auth.internal', lifetimeSeconds: 60 }

  it('signs iss and sub = client id, aud = the issuer, iat = now, exp = iat + lifetime and a jti', () => {
    const { payload } = decode(createClientAssertion(clientKey('k1').key, claims))
    expect(payload).toEqual({
      iss: 'billing',
      sub: 'billing',
      aud: 'https://auth.internal',
      iat: NOW / 1000,
      exp: NOW / 1000 + 60,
      jti: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/) as unknown,
    })
  })

  it('rounds iat down to whole seconds', () => {
    vi.setSystemTime(NOW + 999)
    const { payload } = decode(createClientAssertion(clientKey('k1').key, claims))
    expect(payload.iat).toBe(NOW / 1000)
  })

  it('puts alg, kid and typ client-authentication+jwt in the header', () => {
    const { header } = decode(createClientAssertion(clientKey('k1').key, claims))
    expect(header).toEqual({ alg: 'ES256', kid: 'k1', typ: 'client-authentication+jwt' })
  })

  it('leaves kid out of the header when the key has none', () => {
    const { header } = decode(createClientAssertion(clientKey(undefined).key, claims))
    expect(header).toEqual({ alg: 'ES256', typ: 'client-authentication+jwt' })
  })

  it('makes a new 128-bit jti on every call', () => {
    const { key } = clientKey('k1')
    const jtis = new Set(
      Array.from({ length: 20 }, () => decode(createClientAssertion(key, claims)).payload.jti),
    )
    expect(jtis.size).toBe(20)
    for (const jti of jtis) expect(Buffer.from(jti as string, 'base64url')).toHaveLength(16)
  })

  it('signs with the key, so its public key verifies the assertion', () => {
    const { key, publicJwk } = clientKey('k1')
    const token = createClientAssertion(key, claims)
    const publicKey = createPublicKey({ key: publicJwk, format: 'jwk' })
    expect(verifyJwsSignature(token, 'ES256', publicKey)).toBe(true)
  })
})

describe('CLIENT_ASSERTION_TYPE', () => {
  it('is the RFC 7523 §2.2 JWT bearer client assertion type', () => {
    expect(CLIENT_ASSERTION_TYPE).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
  })
})

describe('assertion lifetimes', () => {
  it('default to 60 seconds and allow at most 300, the endpoint’s default maximum', () => {
    expect(DEFAULT_ASSERTION_LIFETIME_SECONDS).toBe(60)
    expect(MAX_ASSERTION_LIFETIME_SECONDS).toBe(300)
  })
})
