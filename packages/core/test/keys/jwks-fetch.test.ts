import { gzipSync } from 'node:zlib'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  fetchJson,
  freshnessLifetime,
  KeySourceFetchError,
  parseKeySourceUrl,
} from '../../src/keys/jwks-fetch.js'
import { startKeyServer, type TestKeyServer } from '../jwks-server.js'

describe('parseKeySourceUrl', () => {
  const at = { where: 'f', path: 'jwksUri' }

  it.each([
    'https://auth.example.com/jwks.json',
    'http://localhost:8080/jwks.json',
    'http://127.0.0.1/jwks.json',
    'http://[::1]:3000/jwks.json',
  ])('accepts %s', (url) => {
    expect(parseKeySourceUrl(url, at).href).toBe(new URL(url).href)
  })

  it.each([
    ['http on a public host', 'http://auth.example.com/jwks.json'],
    ['http on a host that only starts like localhost', 'http://localhost.example.com/jwks'],
    ['another scheme', 'file:///etc/jwks.json'],
    ['a relative URL', '/jwks.json'],
    ['credentials in the URL', 'https://user:pass@auth.example.com/jwks.json'],
    ['a fragment', 'https://auth.example.com/jwks.json#x'],
    ['an empty string', ''],
    ['a number', 42],
  ])('throws a TypeError naming the option for %s', (_name, value) => {
    expect(() => parseKeySourceUrl(value, at)).toThrow(/^f: option "jwksUri" must /)
  })
})

describe('freshnessLifetime', () => {
  const lifetime = (headers: Record<string, string>): number | undefined =>
    freshnessLifetime(new Headers(headers))

  it('reads max-age among other directives, in any letter case', () => {
    expect(lifetime({ 'cache-control': 'public, MAX-AGE=300, must-revalidate' })).toBe(300)
    expect(lifetime({ 'cache-control': 'max-age="60"' })).toBe(60)
  })

  it('subtracts Age and never goes below zero', () => {
    expect(lifetime({ 'cache-control': 'max-age=300', age: '100' })).toBe(200)
    expect(lifetime({ 'cache-control': 'max-age=300', age: '900' })).toBe(0)
  })

  it('is undefined without a usable max-age or when storing is forbidden', () => {
    expect(lifetime({})).toBeUndefined()
    expect(lifetime({ 'cache-control': 'public' })).toBeUndefined()
    expect(lifetime({ 'cache-control': 'max-age=-5' })).toBeUndefined()
    expect(lifetime({ 'cache-control': 'max-age=1e9' })).toBeUndefined()
    expect(lifetime({ 'cache-control': 'no-store, max-age=300' })).toBeUndefined()
    expect(lifetime({ 'cache-control': 'max-age=300, no-cache' })).toBeUndefined()
  })
})

describe('fetchJson', () => {
  let server: TestKeyServer

  beforeEach(async () => {
    server = await startKeyServer()
  })

  afterEach(async () => {
    await server.close()
  })

  const limits = { timeout: 2000, maxResponseBytes: 64 * 1024 }

  it('parses a JSON body and returns its headers', async () => {
    server.route('/doc', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=5' })
      res.end('{"a":1}')
    })
    const result = await fetchJson(new URL(server.url('/doc')), limits)
    expect(result.json).toEqual({ a: 1 })
    expect(result.headers.get('cache-control')).toBe('max-age=5')
  })

  it('counts decompressed bytes, so a small gzip bomb is refused', async () => {
    const bomb = gzipSync(Buffer.from(`{"p":"${'0'.repeat(1024 * 1024)}"}`))
    expect(bomb.byteLength).toBeLessThan(limits.maxResponseBytes)
    server.route('/doc', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' })
      res.end(bomb)
    })
    const error: unknown = await fetchJson(new URL(server.url('/doc')), limits).catch(
      (reason: unknown) => reason,
    )
    expect(error).toBeInstanceOf(KeySourceFetchError)
    expect(error).toMatchObject({ reason: 'too_large' })
  })

  it('reports the HTTP status of a failed response', async () => {
    const error: unknown = await fetchJson(new URL(server.url('/missing')), limits).catch(
      (reason: unknown) => reason,
    )
    expect(error).toMatchObject({ reason: 'http_status', status: 404 })
  })

  it('refuses a declared Content-Length over the cap before reading the body', async () => {
    const body = `{"p":"${'0'.repeat(limits.maxResponseBytes)}"}`
    server.route('/doc', (_req, res) => {
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
      })
      res.end(body)
    })
    const error: unknown = await fetchJson(new URL(server.url('/doc')), limits).catch(
      (reason: unknown) => reason,
    )
    expect(error).toBeInstanceOf(KeySourceFetchError)
    expect(error).toMatchObject({ reason: 'too_large' })
  })

  it('refuses a redirect whose Location is not a URL', async () => {
    server.route('/doc', (_req, res) => {
      res.writeHead(302, { location: 'http://[::1' }).end()
    })
    const error: unknown = await fetchJson(new URL(server.url('/doc')), limits).catch(
      (reason: unknown) => reason,
    )
    expect(error).toBeInstanceOf(KeySourceFetchError)
    expect(error).toMatchObject({ reason: 'redirect', cause: expect.any(TypeError) as unknown })
  })

  it('sends the request and every redirect hop through the injected fetch', async () => {
    server.route('/old', (_req, res) => void res.writeHead(302, { location: '/doc' }).end())
    server.route('/doc', (_req, res) => void res.writeHead(200).end('{"a":1}'))
    const urls: string[] = []
    const result = await fetchJson(new URL(server.url('/old')), {
      ...limits,
      fetch: (input, init) => {
        urls.push(input.href)
        return fetch(input, init)
      },
    })
    expect(result).toMatchObject({ json: { a: 1 }, url: server.url('/doc') })
    expect(urls).toEqual([server.url('/old'), server.url('/doc')])
  })

  it('treats a 204 without a body as a document that is not JSON', async () => {
    server.route('/doc', (_req, res) => {
      res.writeHead(204).end()
    })
    const error: unknown = await fetchJson(new URL(server.url('/doc')), limits).catch(
      (reason: unknown) => reason,
    )
    expect(error).toBeInstanceOf(KeySourceFetchError)
    expect(error).toMatchObject({ reason: 'invalid_json' })
  })
})
