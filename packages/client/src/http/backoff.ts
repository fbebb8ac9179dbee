const BASE_MS = 200
const CAP_MS = 5000

/**
 * The wait before retry number `retry` (1 for the first retry): "full jitter", a random time
 * between 0 and min(5 s, 200 ms · 2^(retry-1)), so that clients that failed together do not
 * retry together.
 *
 * @see https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 */
export function backoffDelay(retry: number): number {
  return Math.floor(Math.random() * Math.min(CAP_MS, BASE_MS * 2 ** (retry - 1)))
}
