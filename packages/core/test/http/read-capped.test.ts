import { describe, expect, it } from 'vitest'
import { readCappedText } from '../../src/http/read-capped.js'

function streamOf(chunks: Uint8Array[], fail?: Error): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk)
      if (fail === undefined) controller.close()
      else controller.error(fail)
    },
  })
}

describe('readCappedText', () => {
  it('reads a body within the cap, and an empty one', async () => {
    await expect(readCappedText(new Response('{"a":1}'), 100)).resolves.toEqual({ text: '{"a":1}' })
    await expect(readCappedText(new Response(null, { status: 204 }), 100)).resolves.toEqual({
      text: '',
    })
    // A body that says "too_large" is text like any other.
    await expect(readCappedText(new Response('too_large'), 100)).resolves.toEqual({
      text: 'too_large',
    })
  })

  it('answers too_large for a declared Content-Length over the cap, before reading', async () => {
    const response = new Response('x'.repeat(10), { headers: { 'content-length': '5000' } })
    await expect(readCappedText(response, 100)).resolves.toEqual({ problem: 'too_large' })
  })

  it('answers too_large for a streamed body that grows over the cap', async () => {
    const chunk = new Uint8Array(60)
    await expect(readCappedText(new Response(streamOf([chunk, chunk])), 100)).resolves.toEqual({
      problem: 'too_large',
    })
  })

  it('answers not_utf8 for bytes that are not UTF-8', async () => {
    await expect(readCappedText(new Response(new Uint8Array([0xff, 0xfe])), 100)).resolves.toEqual({
      problem: 'not_utf8',
    })
  })

  it('rejects with the stream error when the body breaks off', async () => {
    const response = new Response(streamOf([new Uint8Array(1)], new Error('reset')))
    await expect(readCappedText(response, 100)).rejects.toThrow('reset')
  })
})
