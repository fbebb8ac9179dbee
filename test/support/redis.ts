import { connect } from 'node:net'

/** The Redis the tests use: `REDIS_URL`, default `redis://127.0.0.1:6379`. */
export const REDIS_URL: string = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

/** True under CI, where a missing service is a failure rather than a skip. */
export const IN_CI: boolean = process.env.CI === 'true' || process.env.CI === '1'

/**
 * Answers why Redis cannot be used, or `undefined` when it answers PING.
 * A raw RESP PING keeps this free of any client library and bounded to `timeoutMs`.
 */
export function redisUnavailableReason(
  url = REDIS_URL,
  timeoutMs = 1000,
): Promise<string | undefined> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = connect({ host: hostname || '127.0.0.1', port: Number(port || 6379) })
    let reply = ''
    const finish = (reason: string | undefined): void => {
      clearTimeout(timer)
      socket.destroy()
      resolve(reason)
    }
    const timer = setTimeout(
      () => finish(`Redis at ${url} did not answer within ${timeoutMs} ms`),
      timeoutMs,
    )
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1')
      if (reply.includes('\r\n')) {
        finish(
          reply.startsWith('+PONG')
            ? undefined
            : `Redis at ${url} answered PING with ${JSON.stringify(reply.trim())}`,
        )
      }
    })
    socket.on('error', (err) => finish(`Redis at ${url} is not reachable (${err.message})`))
  })
}

/**
 * Whether Redis-backed suites should be skipped: only outside CI, and the reason is printed so a
 * skipped run is never mistaken for a passing one.
 */
export async function skipWithoutRedis(): Promise<boolean> {
  const reason = await redisUnavailableReason()
  if (reason === undefined) return false
  if (IN_CI) return false // under CI the suites run and fail loudly
  console.warn(`[ccflow tests] skipping Redis tests: ${reason}. Start Redis or set REDIS_URL.`)
  return true
}
