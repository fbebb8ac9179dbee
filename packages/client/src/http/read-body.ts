import { TransportError } from '../errors.js'

/**
 * Reads a response body as UTF-8 text, refusing more than `maxBytes`: the declared
 * `Content-Length` first (an honest oversized answer costs no body bytes), then the streamed
 * count (chunked bodies, lying headers).
 *
 * @throws {TransportError} `too_large` past the cap, `invalid_response` for bytes that are not
 *   UTF-8, `network` when the stream breaks.
 */
export async function readBody(response: Response, maxBytes: number): Promise<string> {
  const declared = response.headers.get('content-length')
  if (declared !== null && Number(declared) > maxBytes) {
    await response.body?.cancel()
    throw tooLarge(maxBytes, response.status)
  }
  if (response.body === null) return ''
  const reader = (response.body as ReadableStream<Uint8Array>).getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      total += value.byteLength
      if (total > maxBytes) {
        await reader.cancel()
        throw tooLarge(maxBytes, response.status)
      }
      chunks.push(value)
    }
  } catch (error) {
    if (error instanceof TransportError) throw error
    throw new TransportError('network', 'token endpoint response broke off', {
      retryable: true,
      status: response.status,
      cause: error,
    })
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks))
  } catch {
    throw new TransportError('invalid_response', 'token endpoint response is not UTF-8', {
      retryable: false,
      status: response.status,
    })
  }
}

function tooLarge(maxBytes: number, status: number): TransportError {
  return new TransportError('too_large', `token endpoint response exceeds ${maxBytes} bytes`, {
    retryable: false,
    status,
  })
}
