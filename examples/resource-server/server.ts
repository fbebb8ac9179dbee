/**
 * Runs the resource server: `tsx examples/resource-server/server.ts`
 * (root: `pnpm start:resource-server`). Configuration comes from the environment.
 */
import { redisRevocationCheck } from '@ccflow/guard'
import { registerGuardInstrumentation } from '@ccflow/guard/opentelemetry'
import { registerGuardMetrics } from '@ccflow/guard/prometheus'
import type { ReadinessCheck } from '../shared/health.js'
import { createLogger, logLevel } from '../shared/log.js'
import { serveMetrics } from '../shared/metrics.js'
import { connectRedis } from '../shared/redis.js'
import { closeOnSignal, fail, listen } from '../shared/serve.js'
import { startTelemetry, telemetryConfig } from '../shared/telemetry.js'
import { createResourceServerApp, PROBE_TOKEN } from './app.js'
import { loadResourceServerConfig } from './config.js'
import { logGuardEvents } from './events.js'

const PROGRAM = 'resource-server'

try {
  const logger = createLogger(PROGRAM, { level: logLevel(process.env) })
  const config = loadResourceServerConfig(process.env)
  const otel = telemetryConfig(process.env)
  // A token revoked at the token server is refused here within 5 s (the check's cache); while
  // Redis is down requests get 503 rather than skip the check.
  const redis = config.redisUrl === undefined ? undefined : connectRedis(config.redisUrl, logger)
  const isRevoked =
    redis === undefined
      ? undefined
      : redisRevocationCheck({
          sendCommand: redis.sendCommand,
          // A log record instead of the guard's console line, at most one per 10 s of failures.
          onError: throttled(10_000, (error) =>
            logger.warn({ err: error }, 'revocation check cannot reach Redis; requests get 503'),
          ),
        })
  const readiness: ReadinessCheck[] = []
  if (redis !== undefined) {
    readiness.push({
      name: 'redis',
      check: async () => ((await redis.ping(1000)) ? undefined : 'redis_unreachable'),
    })
  }
  // OTEL_EXPORTER_OTLP_ENDPOINT: spans (ccflow.guard.verify) and metrics to a collector.
  const telemetry = otel === undefined ? undefined : startTelemetry(PROGRAM, otel)
  if (telemetry !== undefined) {
    registerGuardInstrumentation({
      tracerProvider: telemetry.tracerProvider,
      meterProvider: telemetry.meterProvider,
    })
  }
  // METRICS_PORT: the guard's metrics and the process metrics on a second listener.
  const metrics =
    config.metrics === undefined
      ? undefined
      : await serveMetrics(config.metrics.host, config.metrics.port, (registry) => {
          registerGuardMetrics({ registry })
        })
  // While the guard has no usable key set, GET /ready sends it a probe request (its token is
  // always refused) so that it fetches again: a server nobody routes to would never recover.
  let probing = false
  let selfUrl = ''
  const refreshKeys = (): void => {
    if (probing || selfUrl === '') return
    probing = true
    fetch(`${selfUrl}/whoami`, {
      headers: { authorization: `Bearer ${PROBE_TOKEN}` },
      signal: AbortSignal.timeout(5000),
    })
      .then((res) => res.arrayBuffer())
      .catch(() => undefined)
      .finally(() => {
        probing = false
      })
  }
  const served = await listen(
    config.host,
    config.port,
    (url) => {
      selfUrl = url
      return createResourceServerApp({
        ...config,
        isRevoked,
        onEvent: logGuardEvents(logger),
        readiness,
        refreshKeys,
      })
    },
    logger,
  )
  logger.info({ url: served.url }, `resource server listening on ${served.url}`)
  logger.info(
    { issuer: config.issuer, audience: config.audience },
    `accepting tokens from ${config.issuer} for audience ${config.audience}`,
  )
  logger.info(
    { revocation_check: redis !== undefined },
    redis === undefined
      ? 'revoked tokens are not checked (set REDIS_URL to check them)'
      : 'revoked tokens are checked in Redis',
  )
  if (metrics !== undefined) {
    logger.info({ url: `${metrics.url}/metrics` }, `metrics listening on ${metrics.url}/metrics`)
  }
  if (otel !== undefined) {
    logger.info({ endpoint: otel.endpoint }, 'sending traces and metrics over OTLP/HTTP')
  }
  closeOnSignal(logger, metrics === undefined ? [served] : [served, metrics], async () => {
    await telemetry?.shutdown()
    redis?.close()
  })
} catch (err) {
  fail(PROGRAM, err)
}

/** `report`, called at most once per `intervalMs`. */
function throttled(intervalMs: number, report: (error: unknown) => void): (error: unknown) => void {
  let last = -Infinity
  return (error) => {
    const now = Date.now()
    if (now - last < intervalMs) return
    last = now
    report(error)
  }
}
