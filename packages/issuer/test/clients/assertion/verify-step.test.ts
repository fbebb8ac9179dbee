import { signJws } from '@ccflow/core'
import type { Request, Response } from 'express'
import { randomUUID } from 'node:crypto'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import {
  type PrivateKeyJwtOptions,
  resolvePrivateKeyJwtOptions,
} from '../../../src/clients/assertion/assertion-options.js'
import {
  type AssertionContext,
  JWT_BEARER_ASSERTION_TYPE,
} from '../../../src/clients/assertion/verify-assertion.js'
import { createVerifyAssertion } from '../../../src/clients/assertion/verify-step.js'
import { type Client, staticClientStore } from '../../../src/clients/client-store.js'
import { isTokenError } from '../../../src/errors.js'
import type { EmitEvent } from '../../../src/events.js'
import { beginTokenRequest, stateOf } from '../../../src/http/request-state.js'
import { clientKey } from './servers.js'

const ISSUER = 'https://auth.example.test'
const IP = '203.0.113.7'
const key = clientKey('k-1')
const client: Client = {
  client_id: 'key-client',
  scope: 'orders:read',
  audiences: ['https://api.example.test/orders'],
  token_endpoint_auth_method: 'private_key_jwt',
  jwks: { keys: [key.jwk] },
}

const contexts: AssertionContext[] = []
afterAll(() => {
  for (const { rules } of contexts) rules.keySets.close()
})

const emit = vi.fn<EmitEvent>()
afterEach(() => emit.mockClear())

function verifyWith(options: PrivateKeyJwtOptions = {}) {
  const context: AssertionContext = {
    issuer: ISSUER,
    tokenEndpointUrl: `${ISSUER}/token`,
    clients: staticClientStore([client]),
    hookTimeoutMs: 1000,
    rules: resolvePrivateKeyJwtOptions(options, 'test'),
  }
  contexts.push(context)
  return createVerifyAssertion(context, emit)
}

function assertion(claims: Record<string, unknown> = {}): string {
  const now = Math.floor(Date.now() / 1000)
  return signJws(
    { alg: 'ES256', kid: 'k-1' },
    {
      iss: 'key-client',
      sub: 'key-client',
      aud: ISSUER,
      jti: randomUUID(),
      exp: now + 60,
      ...claims,
    },
    key.privateKey,
  )
}

/** A request outside the token route: no request state. */
const bareRequest = (): Request => ({ ip: IP }) as unknown as Request

/** A request that went through beginTokenRequest, so it has a request state. */
function routeRequest(): Request {
  const req = { ip: IP, url: '/token', headers: {} } as unknown as Request
  const res = { setHeader: vi.fn() } as unknown as Response
  beginTokenRequest('token')(req, res, () => undefined)
  return req
}

const params = (assertionValue: string | undefined, type = JWT_BEARER_ASSERTION_TYPE) => ({
  type,
  assertion: assertionValue,
  clientId: undefined,
})

describe('createVerifyAssertion', () => {
  const verify = verifyWith()

  it('resolves the client and reports nothing for a valid assertion', async () => {
    const result = await verify(bareRequest(), params(assertion()))
    expect(result).toMatchObject({ client_id: 'key-client' })
    expect(emit).not.toHaveBeenCalled()
  })

  it('records the method and the client on the token request', async () => {
    const req = routeRequest()
    await verify(req, params(assertion()))
    expect(stateOf(req)).toMatchObject({ method: 'private_key_jwt', clientId: 'key-client' })
  })

  it('records the client named by sub on the token request when it is refused', async () => {
    const req = routeRequest()
    await verify(req, params(assertion({ aud: 'https://other.example.test' })))
    expect(stateOf(req)).toMatchObject({ method: 'private_key_jwt', clientId: 'key-client' })
  })

  it('refuses with a challenge-less 401 invalid_client and reports the precise reason (RFC 7521 §4.2.1)', async () => {
    const result = await verify(bareRequest(), params(assertion({ iss: 'someone-else' })))
    expect(isTokenError(result)).toBe(true)
    expect(result).toMatchObject({
      code: 'invalid_client',
      status: 401,
      reason: 'assertion_wrong_issuer',
      headers: undefined,
    })
    expect(emit).toHaveBeenCalledExactlyOnceWith({
      type: 'authentication_failed',
      reason: 'assertion_wrong_issuer',
      method: 'private_key_jwt',
      clientId: 'key-client',
      ip: IP,
    })
  })

  it('refuses a client_assertion_type other than jwt-bearer without reading the assertion', async () => {
    const result = await verify(bareRequest(), params('not even a JWT', 'urn:example:other'))
    expect(result).toMatchObject({ code: 'invalid_client', reason: 'unsupported_assertion_type' })
    expect(emit).toHaveBeenCalledExactlyOnceWith({
      type: 'authentication_failed',
      reason: 'unsupported_assertion_type',
      method: 'private_key_jwt',
      ip: IP,
    })
  })

  it.each([undefined, ''])(
    'refuses a missing client_assertion (%j) as malformed',
    async (value) => {
      const result = await verify(bareRequest(), params(value))
      expect(result).toMatchObject({ code: 'invalid_client', reason: 'malformed_assertion' })
    },
  )

  it('reports store_error with the claimed client when the client store rejects, then rethrows', async () => {
    const failure = new Error('db down')
    const context: AssertionContext = {
      issuer: ISSUER,
      tokenEndpointUrl: `${ISSUER}/token`,
      clients: { findClient: () => Promise.reject(failure) },
      hookTimeoutMs: 1000,
      rules: resolvePrivateKeyJwtOptions({}, 'test'),
    }
    contexts.push(context)
    const verifyFailing = createVerifyAssertion(context, emit)
    await expect(verifyFailing(bareRequest(), params(assertion()))).rejects.toBe(failure)
    expect(emit.mock.calls).toEqual([
      [
        {
          type: 'store_error',
          store: 'client_store',
          error: failure,
          clientId: 'key-client',
          ip: IP,
        },
      ],
    ])
  })

  it("reports assertion_legacy_audience when aud is the token endpoint URL under 'legacy'", async () => {
    const legacy = verifyWith({ assertionAudience: 'legacy' })
    const result = await legacy(bareRequest(), params(assertion({ aud: `${ISSUER}/token` })))
    expect(result).toMatchObject({ client_id: 'key-client' })
    expect(emit).toHaveBeenCalledExactlyOnceWith({
      type: 'assertion_legacy_audience',
      clientId: 'key-client',
      ip: IP,
    })
  })
})
