import { signJws } from '@ccflow/core'
import { randomUUID } from 'node:crypto'
import { afterAll, describe, expect, it, vi } from 'vitest'
import {
  type PrivateKeyJwtOptions,
  resolvePrivateKeyJwtOptions,
} from '../../../src/clients/assertion/assertion-options.js'
import type { ReplayStore } from '../../../src/clients/assertion/replay-store.js'
import {
  type AssertionContext,
  verifyClientAssertion,
} from '../../../src/clients/assertion/verify-assertion.js'
import {
  type Client,
  type ClientStore,
  staticClientStore,
} from '../../../src/clients/client-store.js'
import { isTokenError } from '../../../src/errors.js'
import { clientKey } from './servers.js'

const ISSUER = 'https://auth.example.test'
const NOW = 1_900_000_000
const key = clientKey('k-1')
const client: Client = {
  client_id: 'key-client',
  scope: 'orders:read',
  audiences: ['https://api.example.test/orders'],
  token_endpoint_auth_method: 'private_key_jwt',
  jwks: { keys: [key.jwk] },
}
const store = staticClientStore([client])

const contexts: AssertionContext[] = []
afterAll(() => {
  for (const { rules } of contexts) rules.keySets.close()
})

function contextWith(
  options: PrivateKeyJwtOptions = {},
  clients: ClientStore = store,
  hookTimeoutMs = 1000,
): AssertionContext {
  const context: AssertionContext = {
    issuer: ISSUER,
    tokenEndpointUrl: `${ISSUER}/token`,
    clients,
    hookTimeoutMs,
    rules: resolvePrivateKeyJwtOptions(options, 'test'),
  }
  contexts.push(context)
  return context
}

/** An ES256 assertion of key-client; members set to undefined are left out. */
function assertion(header: Record<string, unknown> = {}, claims: Record<string, unknown> = {}) {
  return signJws(
    { alg: 'ES256', kid: 'k-1', ...header },
    {
      iss: 'key-client',
      sub: 'key-client',
      aud: ISSUER,
      jti: randomUUID(),
      iat: NOW,
      exp: NOW + 60,
      ...claims,
    },
    key.privateKey,
  )
}

const verify = (value: string, context = contextWith(), clientId?: string) =>
  verifyClientAssertion(context, value, clientId, NOW)

describe('verifyClientAssertion', () => {
  it.each([
    ['absent', undefined],
    ['JWT', 'JWT'],
    ['jwt', 'jwt'],
    ['application/jwt', 'application/jwt'],
    ['client-authentication+jwt', 'client-authentication+jwt'],
    ['application/client-authentication+jwt', 'application/client-authentication+jwt'],
    ['Client-Authentication+JWT', 'Client-Authentication+JWT'],
  ])('accepts typ %s (RFC 7515 §4.1.9, RFC 7523bis)', async (_name, typ) => {
    const result = await verify(assertion({ typ }))
    expect(result).toEqual({
      ok: true,
      client: expect.objectContaining({ client_id: 'key-client' }) as unknown,
      legacyAudience: false,
    })
  })

  it.each([
    ['at+jwt', 'at+jwt'],
    ['dpop+jwt', 'dpop+jwt'],
    ['an empty string', ''],
    ['a number', 42],
    ['null', null],
    ['an array', ['JWT']],
  ])('refuses typ %s before looking up the client', async (_name, typ) => {
    const findClient = vi.fn<ClientStore['findClient']>((id) => store.findClient(id))
    const result = await verify(assertion({ typ }), contextWith({}, { findClient }))
    expect(result).toEqual({ ok: false, reason: 'assertion_bad_typ' })
    expect(findClient).not.toHaveBeenCalled()
  })

  it.each([
    ['sub missing', { sub: undefined }],
    ['sub empty', { sub: '' }],
    ['sub not a string', { sub: 7 }],
  ])('refuses a payload with %s as malformed', async (_name, claims) => {
    expect(await verify(assertion({}, claims))).toEqual({
      ok: false,
      reason: 'malformed_assertion',
    })
  })

  it.each([
    ['iat', { iat: String(NOW) }],
    ['nbf', { nbf: String(NOW) }],
  ])('refuses a %s that is not a number as malformed', async (_name, claims) => {
    expect(await verify(assertion({}, claims))).toEqual({
      ok: false,
      reason: 'malformed_assertion',
      clientId: 'key-client',
    })
  })

  it('refuses a record the store answers for another client id', async () => {
    const findClient = () => Promise.resolve({ ...client, client_id: 'someone-else' })
    expect(await verify(assertion(), contextWith({}, { findClient }))).toEqual({
      ok: false,
      reason: 'unknown_client',
      clientId: 'key-client',
    })
  })

  it('accepts exp up to the clock tolerance (15 s) in the past, and no further', async () => {
    const claims = (exp: number) => ({ iat: exp - 60, exp })
    expect(await verify(assertion({}, claims(NOW - 14)))).toMatchObject({ ok: true })
    expect(await verify(assertion({}, claims(NOW - 15)))).toMatchObject({
      ok: false,
      reason: 'assertion_expired',
    })
  })

  it('accepts iat and nbf up to the clock tolerance (15 s) in the future, and no further', async () => {
    const at = (t: number) => ({ iat: t, nbf: t, exp: t + 60 })
    expect(await verify(assertion({}, at(NOW + 15)))).toMatchObject({ ok: true })
    expect(await verify(assertion({}, { ...at(NOW + 16), nbf: undefined }))).toMatchObject({
      reason: 'assertion_issued_in_future',
    })
    expect(await verify(assertion({}, { ...at(NOW + 16), iat: undefined }))).toMatchObject({
      reason: 'assertion_not_yet_valid',
    })
  })

  it('accepts a lifetime of exactly maxAssertionLifetimeSeconds', async () => {
    expect(await verify(assertion({}, { exp: NOW + 300 }))).toMatchObject({ ok: true })
    expect(await verify(assertion({}, { exp: NOW + 301 }))).toMatchObject({
      reason: 'assertion_lifetime_too_long',
    })
  })

  it("reports the token endpoint URL accepted under assertionAudience: 'legacy'", async () => {
    const context = contextWith({ assertionAudience: 'legacy' })
    expect(await verify(assertion({}, { aud: `${ISSUER}/token` }), context)).toMatchObject({
      ok: true,
      legacyAudience: true,
    })
  })

  it('claims the jti until exp plus the clock tolerance', async () => {
    const claim = vi.fn<ReplayStore['claim']>(() => Promise.resolve(true))
    const jti = randomUUID()
    await verify(assertion({}, { jti }), contextWith({ replayStore: { claim } }))
    expect(claim).toHaveBeenCalledExactlyOnceWith('key-client', jti, NOW + 60 + 15)
  })

  it('rejects with a 503 replay_store error when the replay store does not answer in time', async () => {
    const replayStore: ReplayStore = { claim: () => new Promise<boolean>(() => {}) }
    const context = contextWith({ replayStore }, store, 20)
    const error: unknown = await verify(assertion(), context).then(
      () => undefined,
      (reason: unknown) => reason,
    )
    expect(isTokenError(error)).toBe(true)
    expect(error).toMatchObject({ status: 503, dependency: 'replay_store' })
  })

  it('rejects with a 503 replay_store error, the failure as cause, when the replay store rejects', async () => {
    const failure = new Error('store down')
    const replayStore: ReplayStore = { claim: () => Promise.reject(failure) }
    const error: unknown = await verify(assertion(), contextWith({ replayStore })).then(
      () => undefined,
      (reason: unknown) => reason,
    )
    expect(error).toMatchObject({ status: 503, dependency: 'replay_store', cause: failure })
  })

  it('rejects with the TypeError of a record that is not valid (a private_key_jwt client without keys)', async () => {
    // A store that hands out records unchecked: read as is, the record would have no key at all.
    const findClient = () => Promise.resolve({ ...client, jwks: undefined } as unknown as Client)
    await expect(verify(assertion(), contextWith({}, { findClient }))).rejects.toThrow(
      /a private_key_jwt client needs exactly one of jwks and jwks_uri/,
    )
  })
})
