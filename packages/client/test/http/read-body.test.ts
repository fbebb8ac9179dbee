import { describe, expect, it } from 'vitest'
import { readBody } from '../../src/http/read-body.js'

describe('readBody', () => {
  it('reads a body within the cap', async () => {
    await expect(readBody(new Response('{"a":1}'), 100)).resolves.toBe('{"a":1}')
  })

  it('refuses a body over the cap as too_large, not retryable', async () => {
    await expect(
      readBody(new Response('x'.repeat(101), { status: 400 }), 100),
    ).rejects.toMatchObject({
      reason: 'too_large',
      retryable: false,
      status: 400,
    })
  })

  it('refuses bytes that are not UTF-8 as invalid_response', async () => {
    await expect(readBody(new Response(new Uint8Array([0xff, 0xfe])), 100)).rejects.toMatchObject({
      reason: 'invalid_response',
      retryable: false,
    })
  })

  it('reports a body that breaks off as a retryable network error', async () => {
    const broken = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.error(new Error('reset'))
      },
    })
    await expect(readBody(new Response(broken), 100)).rejects.toMatchObject({
      reason: 'network',
      retryable: true,
    })
  })
})
