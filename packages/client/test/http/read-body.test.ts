import { describe, expect, it } from 'vitest'
import { readBody } from '../../src/http/read-body.js'

function streamOf(chunks: Uint8Array[], fail?: Error): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk)
      if (fail === undefined) controller.close()
      else controller.error(fail)
    },
  })
}

describe('readBody', () => {
  it('reads a body within the cap', async () => {
    await expect(readBody(new Response('{"a":1}'), 100)).resolves.toBe('{"a":1}')
  })

  it('reads an empty body', async () => {
    await expect(readBody(new Response(null, { status: 204 }), 100)).resolves.toBe('')
  })

  it('refuses a declared Content-Length over the cap before reading', async () => {
    const response = new Response('x'.repeat(10), { headers: { 'content-length': '5000' } })
    await expect(readBody(response, 100)).rejects.toMatchObject({
      reason: 'too_large',
      retryable: false,
    })
  })

  it('refuses a streamed body that grows over the cap', async () => {
    const chunk = new Uint8Array(60)
    await expect(readBody(new Response(streamOf([chunk, chunk])), 100)).rejects.toMatchObject({
      reason: 'too_large',
    })
  })

  it('refuses bytes that are not UTF-8', async () => {
    await expect(readBody(new Response(new Uint8Array([0xff, 0xfe])), 100)).rejects.toMatchObject({
      reason: 'invalid_response',
    })
  })

  it('reports a body that breaks off as a retryable network error', async () => {
    const response = new Response(streamOf([new Uint8Array(1)], new Error('reset')), {
      status: 200,
    })
    await expect(readBody(response, 100)).rejects.toMatchObject({
      reason: 'network',
      retryable: true,
    })
  })
})
