import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { FetchFunction } from '../../src/options/types.js'
import { createEndpointResolver } from '../../src/http/discovery.js'
import { resolveOptions } from '../../src/options/resolve.js'
import { SECRET, startTokenServer, type TokenServer } from '../helpers.js'

let server: TokenServer

beforeEach(async () => {
  server = await startTokenServer()
})

afterEach(async () => {
  await server.close()
})

const resolverFor = (issuer: string) =>
  createEndpointResolver(resolveOptions({ issuer, clientId: 'c', clientSecret: SECRET }))
const signal = (): AbortSignal => new AbortController().signal

describe('createEndpointResolver', () => {
  it('answers a configured token endpoint without any request', async () => {
    const resolve = createEndpointResolver(
      resolveOptions({ tokenEndpoint: server.tokenEndpoint, clientId: 'c', clientSecret: SECRET }),
    )
    await expect(resolve(signal())).resolves.toEqual(new URL(server.tokenEndpoint))
    expect(server.metadataRequests).toEqual([])
  })

  it('reads token_endpoint once for concurrent and later callers', async () => {
    const resolve = resolverFor(server.issuer)
    const urls = await Promise.all([resolve(signal()), resolve(signal())])
    await resolve(signal())
    expect(urls.map(String)).toEqual([server.tokenEndpoint, server.tokenEndpoint])
    expect(server.metadataRequests).toHaveLength(1)
  })

  it('asks again after a failure', async () => {
    server.metadata(undefined)
    const resolve = resolverFor(server.issuer)
    await expect(resolve(signal())).rejects.toMatchObject({
      reason: 'discovery',
      retryable: false,
      status: 404,
    })
    server.metadata({ issuer: server.issuer, token_endpoint: server.tokenEndpoint })
    await expect(resolve(signal())).resolves.toEqual(new URL(server.tokenEndpoint))
  })

  it.each([
    [{ token_endpoint: 'x' }, 'names a different issuer', false],
    [
      { issuer: 'ISSUER', token_endpoint: 'ftp://auth.example/token' },
      'no usable token_endpoint',
      false,
    ],
    [{ issuer: 'ISSUER' }, 'no usable token_endpoint', false],
  ])('refuses metadata %j', async (document, _problem, retryable) => {
    const withIssuer = Object.fromEntries(
      Object.entries(document).map(([name, value]) => [
        name,
        value === 'ISSUER' ? server.issuer : value,
      ]),
    )
    server.metadata(withIssuer)
    await expect(resolverFor(server.issuer)(signal())).rejects.toMatchObject({
      code: 'transport_error',
      reason: 'discovery',
      retryable,
    })
  })

  it('calls a failure of an unreachable issuer retryable', async () => {
    const url = server.issuer
    await server.close()
    server = await startTokenServer()
    await expect(resolverFor(url)(signal())).rejects.toMatchObject({
      reason: 'discovery',
      retryable: true,
    })
  })

  describe('with callers that give up', () => {
    /** A fetch whose metadata answer waits for release(), failing like fetch when its signal aborts. */
    function heldMetadata(): { fetch: FetchFunction; release(): void; signals: AbortSignal[] } {
      let release: () => void = () => {}
      const held = new Promise<void>((resolve) => (release = resolve))
      const signals: AbortSignal[] = []
      const fetch: FetchFunction = (input, init) => {
        const signal = init?.signal ?? undefined
        if (signal !== undefined) signals.push(signal)
        return new Promise<Response>((resolve, reject) => {
          signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true })
          void held.then(() => resolve(globalThis.fetch(input, init)))
        })
      }
      return { fetch, release: () => release(), signals }
    }
    const heldResolver = (fetch: FetchFunction, closed?: AbortSignal) =>
      createEndpointResolver(
        resolveOptions({ issuer: server.issuer, clientId: 'c', clientSecret: SECRET, fetch }),
        closed,
      )

    it('answers the second caller when the first one aborts while the shared read runs', async () => {
      const held = heldMetadata()
      const resolve = heldResolver(held.fetch)
      const first = new AbortController()
      const gaveUp = resolve(first.signal)
      const patient = resolve(signal())
      first.abort(new Error('first caller gave up'))
      await expect(gaveUp).rejects.toThrow('first caller gave up')
      held.release()
      await expect(patient).resolves.toEqual(new URL(server.tokenEndpoint))
      expect(held.signals).toHaveLength(1)
      expect(held.signals[0]?.aborted).toBe(false)
      expect(server.metadataRequests).toHaveLength(1)
    })

    it('keeps the URL a read found after every caller gave up', async () => {
      const held = heldMetadata()
      const resolve = heldResolver(held.fetch)
      const only = new AbortController()
      const gaveUp = resolve(only.signal)
      only.abort(new Error('gave up'))
      await expect(gaveUp).rejects.toThrow('gave up')
      held.release()
      await expect(resolve(signal())).resolves.toEqual(new URL(server.tokenEndpoint))
      expect(server.metadataRequests).toHaveLength(1)
    })

    it('starts no read for a caller whose signal has already aborted', async () => {
      const held = heldMetadata()
      await expect(heldResolver(held.fetch)(AbortSignal.abort(new Error('late')))).rejects.toThrow(
        'late',
      )
      expect(held.signals).toEqual([])
    })

    it('stops the shared read when the client closes', async () => {
      const held = heldMetadata()
      const closed = new AbortController()
      const waiting = heldResolver(held.fetch, closed.signal)(signal())
      closed.abort(new Error('closed'))
      await expect(waiting).rejects.toMatchObject({ reason: 'discovery' })
      expect(held.signals[0]?.aborted).toBe(true)
    })
  })
})
