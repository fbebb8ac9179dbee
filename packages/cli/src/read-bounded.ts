import { CliFailure } from './cli-failure.js'

/**
 * Reads a stream whole, but never more than `limitBytes`: past it, stops reading and fails with
 * `tooLong`, so a mistaken `/dev/zero` or a multi-gigabyte file cannot exhaust memory.
 */
export async function readBounded(
  source: AsyncIterable<string | Buffer>,
  limitBytes: number,
  tooLong: string,
): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of source) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    size += buffer.length
    if (size > limitBytes) throw new CliFailure(tooLong)
    chunks.push(buffer)
  }
  return Buffer.concat(chunks)
}
