import { afterEach, beforeEach, describe, expect, it } from 'vitest'
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
    await expect(resolve(signal(), Date.now() + 1000)).resolves.toEqual(
      new URL(server.tokenEndpoint),
    )
    expect(server.metadataRequests).toEqual([])
  })

  it('reads token_endpoint once for concurrent and later callers', async () => {
    const resolve = resolverFor(server.issuer)
    const deadline = Date.now() + 5000
    const urls = await Promise.all([resolve(signal(), deadline), resolve(signal(), deadline)])
    await resolve(signal(), deadline)
    expect(urls.map(String)).toEqual([server.tokenEndpoint, server.tokenEndpoint])
    expect(server.metadataRequests).toHaveLength(1)
  })

  it('asks again after a failure', async () => {
    server.metadata(undefined)
    const resolve = resolverFor(server.issuer)
    await expect(resolve(signal(), Date.now() + 5000)).rejects.toMatchObject({
      reason: 'discovery',
      retryable: false,
      status: 404,
    })
    server.metadata({ issuer: server.issuer, token_endpoint: server.tokenEndpoint })
    await expect(resolve(signal(), Date.now() + 5000)).resolves.toEqual(
      new URL(server.tokenEndpoint),
    )
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
    await expect(resolverFor(server.issuer)(signal(), Date.now() + 5000)).rejects.toMatchObject({
      code: 'transport_error',
      reason: 'discovery',
      retryable,
    })
  })

  it('calls a failure of an unreachable issuer retryable', async () => {
    const url = server.issuer
    await server.close()
    server = await startTokenServer()
    await expect(resolverFor(url)(signal(), Date.now() + 5000)).rejects.toMatchObject({
      reason: 'discovery',
      retryable: true,
    })
  })
})
