import type { IncomingMessage } from 'node:http'
import { PassThrough } from 'node:stream'
import type { Request, Response } from 'express'
import { describe, expect, it, vi } from 'vitest'
import { readBody } from '../../src/http/body-reader.js'

/**
 * A request stream the reader can be driven through byte by byte, with the parts of
 * IncomingMessage it looks at. Supertest cannot produce these situations (a stream whose encoding
 * was set, a body cut short of its Content-Length, a socket error mid-body).
 */
function fakeRequest(headers: IncomingMessage['headers']): PassThrough & Request {
  const stream = new PassThrough()
  return Object.assign(stream, {
    headers,
    socket: { readable: true },
    complete: false,
  }) as unknown as PassThrough & Request
}

function run(req: Request, limit = 16): ReturnType<typeof vi.fn> {
  const next = vi.fn()
  readBody(limit)(req, {} as Response, next)
  return next
}

describe('readBody (stream edge cases)', () => {
  it('passes a request that declares no body (no Content-Length, no Transfer-Encoding) on without reading it', () => {
    const req = fakeRequest({ 'content-type': 'application/x-www-form-urlencoded' })
    const next = run(req)
    expect(next).toHaveBeenCalledExactlyOnceWith()
    expect(req.listenerCount('data')).toBe(0)
    expect((req as { body?: unknown }).body).toBeUndefined()
  })

  it('refuses a Content-Encoding other than identity with 415 encoding.unsupported', () => {
    const next = run(fakeRequest({ 'content-length': '3', 'content-encoding': 'gzip' }))
    expect(next).toHaveBeenCalledExactlyOnceWith(
      expect.objectContaining({ type: 'encoding.unsupported', status: 415 }),
    )
  })

  it('reads a body sent with Content-Encoding: identity', async () => {
    const req = fakeRequest({ 'content-length': '3', 'content-encoding': 'IDENTITY' })
    const next = run(req)
    req.end('a=1')
    await vi.waitFor(() => expect(next).toHaveBeenCalledExactlyOnceWith())
    expect((req as { body?: unknown }).body).toBe('a=1')
  })

  it('fails with 500 stream.encoding.set when something already set an encoding on the stream', () => {
    const req = fakeRequest({ 'content-length': '3' })
    req.setEncoding('utf8')
    const next = run(req)
    expect(next).toHaveBeenCalledExactlyOnceWith(
      expect.objectContaining({ type: 'stream.encoding.set', status: 500 }),
    )
  })

  it('fails with 500 stream.not.readable when the stream can no longer be read', () => {
    const req = fakeRequest({ 'content-length': '3' })
    req.destroy()
    const next = run(req)
    expect(next).toHaveBeenCalledExactlyOnceWith(
      expect.objectContaining({ type: 'stream.not.readable', status: 500 }),
    )
  })

  it('fails with 400 request.size.invalid when the body ends short of its Content-Length', async () => {
    const req = fakeRequest({ 'content-length': '10' })
    const next = run(req)
    // IncomingMessage marks itself complete before it ends the stream.
    req.complete = true
    req.end('a=1')
    await vi.waitFor(() => expect(next).toHaveBeenCalledTimes(1))
    expect(next).toHaveBeenCalledWith(
      expect.objectContaining({ type: 'request.size.invalid', status: 400 }),
    )
    expect((req as { body?: unknown }).body).toBeUndefined()
  })

  it('fails with 400 request.aborted when the connection is reset mid-body', async () => {
    const req = fakeRequest({ 'transfer-encoding': 'chunked' })
    const next = run(req)
    req.write('a=')
    await new Promise((resolve) => setImmediate(resolve))
    req.destroy(new Error('ECONNRESET'))
    await vi.waitFor(() => expect(next).toHaveBeenCalledTimes(1))
    expect(next).toHaveBeenCalledWith(
      expect.objectContaining({ type: 'request.aborted', status: 400 }),
    )
  })

  it('answers once, with entity.too.large, when the request also errors after growing past the limit', async () => {
    const req = fakeRequest({ 'transfer-encoding': 'chunked' })
    const next = run(req, 4)
    req.write('a=12345')
    await new Promise((resolve) => setImmediate(resolve))
    expect(next).not.toHaveBeenCalled() // still reading off the rest
    req.destroy(new Error('ECONNRESET'))
    await new Promise((resolve) => setImmediate(resolve))
    expect(next).toHaveBeenCalledExactlyOnceWith(
      expect.objectContaining({ type: 'entity.too.large', status: 413 }),
    )
  })
})
