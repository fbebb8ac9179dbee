/**
 * Runs the token server: `tsx examples/token-server/server.ts` (root: `pnpm start:token-server`).
 * Configuration comes from the environment; see examples/README.md.
 */
import { registerIssuerInstrumentation } from '@ccflow/issuer/opentelemetry'
import { registerIssuerMetrics } from '@ccflow/issuer/prometheus'
import type { ReadinessCheck } from '../shared/health.js'
import { createLogger, logLevel } from '../shared/log.js'
import { serveMetrics } from '../shared/metrics.js'
import { connectRedis } from '../shared/redis.js'
import { closeOnSignal, fail, listen } from '../shared/serve.js'
import { startTelemetry, telemetryConfig } from '../shared/telemetry.js'
import { createTokenServerApp } from './app.js'
import { loadTokenServerConfig } from './config.js'
import { logIssuerEvents } from './events.js'

const PROGRAM = 'token-server'

try {
  const logger = createLogger(PROGRAM, { level: logLevel(process.env) })
  const config = loadTokenServerConfig(process.env)
  const otel = telemetryConfig(process.env)
  for (const warning of config.warnings) logger.warn(warning)
  // DATABASE_URL: never serve on a schema this ccflow does not know, or without change
  // notifications (a disabled client must be refused everywhere at once).
  await config.database?.ready()
  const redis = config.redisUrl === undefined ? undefined : connectRedis(config.redisUrl, logger)
  const readiness: ReadinessCheck[] = []
  const { database } = config
  if (database !== undefined) {
    database.onConnectionLost((err) => logger.warn({ err }, 'database connection lost'))
    readiness.push({
      name: 'database',
      check: async () => ((await database.ping(1000)) ? undefined : 'database_unreachable'),
    })
  }
  if (redis !== undefined) {
    readiness.push({
      name: 'redis',
      check: async () => ((await redis.ping(1000)) ? undefined : 'redis_unreachable'),
    })
  }
  // OTEL_EXPORTER_OTLP_ENDPOINT: spans (ccflow.token, …) and metrics to a collector.
  const telemetry = otel === undefined ? undefined : startTelemetry(PROGRAM, otel)
  if (telemetry !== undefined) {
    registerIssuerInstrumentation({
      tracerProvider: telemetry.tracerProvider,
      meterProvider: telemetry.meterProvider,
    })
  }
  // METRICS_PORT: a second listener, started first so that every request is counted.
  const metrics =
    config.metrics === undefined
      ? undefined
      : await serveMetrics(config.metrics.host, config.metrics.port, (registry) => {
          registerIssuerMetrics({ registry })
        })
  const served = await listen(
    config.host,
    config.port,
    (url) =>
      createTokenServerApp({
        ...config,
        issuer: config.issuer ?? url,
        sendCommand: redis?.sendCommand,
        onEvent: logIssuerEvents(logger),
        limiterLogger: {
          error: (err, message) => logger.error({ err }, message ?? 'rate limiter error'),
          warn: (err, message) => logger.warn({ err }, message ?? 'rate limiter warning'),
        },
        readiness,
      }),
    logger,
  )
  const issuer = config.issuer ?? served.url
  logger.info({ url: served.url }, `token server listening on ${served.url}`)
  logger.info(
    { issuer, metadata: `${issuer.replace(/\/$/, '')}/.well-known/oauth-authorization-server` },
    `issuer ${issuer}`,
  )
  if (config.database !== undefined) {
    logger.info('clients from PostgreSQL (DATABASE_URL); manage them with `ccflow client …`')
  }
  logger.info(
    { shared_state: redis === undefined ? 'process' : 'redis' },
    redis === undefined
      ? 'rate limits, revocations and used client assertions in this process only (set REDIS_URL to share them)'
      : 'rate limits and revocations shared through Redis, and each client assertion is accepted once across instances',
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
