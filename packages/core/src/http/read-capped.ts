/** What {@link readCappedText} read: the text, or why there is none. */
export type CappedText = { readonly text: string } | { readonly problem: 'too_large' | 'not_utf8' }

/**
 * Reads a response body as UTF-8 text of at most `maxBytes`: the declared `Content-Length` is
 * checked first (an honest oversized answer costs no body bytes), then the streamed count, which
 * is what enforces the cap (chunked bodies, lying headers). A body over the cap is cancelled.
 *
 * @returns `{ text }`, or `{ problem }`: `too_large` past the cap, `not_utf8` for bytes that are
 *   not UTF-8. A stream that breaks rejects with its own error.
 */
export async function readCappedText(response: Response, maxBytes: number): Promise<CappedText> {
  const declared = response.headers.get('content-length')
  if (declared !== null && Number(declared) > maxBytes) {
    await response.body?.cancel()
    return { problem: 'too_large' }
  }
  if (response.body === null) return { text: '' }
  const reader = (response.body as ReadableStream<Uint8Array>).getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > maxBytes) {
      await reader.cancel()
      return { problem: 'too_large' }
    }
    chunks.push(value)
  }
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks)) }
  } catch {
    return { problem: 'not_utf8' }
  }
}
