import { type CappedText, readCappedText } from '@ccflow/core'
import { TransportError } from '../errors.js'

/**
 * Reads a token endpoint response body as UTF-8 text of at most `maxBytes` (core's capped
 * reader).
 *
 * @throws {TransportError} `too_large` past the cap, `invalid_response` for bytes that are not
 *   UTF-8, `network` when the stream breaks.
 */
export async function readBody(response: Response, maxBytes: number): Promise<string> {
  const { status } = response
  let read: CappedText
  try {
    read = await readCappedText(response, maxBytes)
  } catch (error) {
    throw new TransportError('network', 'token endpoint response broke off', {
      retryable: true,
      status,
      cause: error,
    })
  }
  if ('text' in read) return read.text
  if (read.problem === 'too_large') {
    throw new TransportError('too_large', `token endpoint response exceeds ${maxBytes} bytes`, {
      retryable: false,
      status,
    })
  }
  throw new TransportError('invalid_response', 'token endpoint response is not UTF-8', {
    retryable: false,
    status,
  })
}
