/**
 * The token server: an Express app that serves only ccflow's token endpoint, its JWKS, its
 * RFC 8414 metadata, token revocation and introspection at the issuer's path, plus `GET /health`
 * and `GET /ready` at the root. Built from a config; it never listens (see server.ts).
 */
import express, { type ErrorRequestHandler, type Express } from 'express'
import { collectSnapshots } from '@ccflow/core'
import {
  type ClientStore,
  ISSUER_CHANNELS,
  type IssuerEvent,
  type IssuerSnapshot,
  type SigningKeysInput,
  memoryDenylist,
  rateLimitRedisCommand,
  redisDenylist,
  redisReplayStore,
  tokenEndpoint,
} from '@ccflow/issuer'
import { RedisStore } from 'rate-limit-redis'
import type { TrustProxy } from '../shared/env.js'
import { healthRoutes, type ReadinessCheck } from '../shared/health.js'

/** express-rate-limit's `logger`: its store errors, with a message. */
export interface LimiterLogger {
  error(error: unknown, message?: string): void
  warn(error: unknown, message?: string): void
}

/** What the app needs; `loadTokenServerConfig()` gives all of it except the final issuer. */
export interface TokenServerAppConfig {
  /** The issuer URL, exactly as it appears in `iss` and in the metadata. */
  issuer: string
  /**
   * Where clients are looked up: `jsonFileClientStore(CLIENTS_FILE)`, `postgresClientStore`
   * (`DATABASE_URL`), or `staticClientStore`.
   */
  clients: ClientStore
  keys: SigningKeysInput
  accessTokenTtlSeconds?: number | undefined
  secretPepper?: string | undefined
  trustProxy?: TrustProxy
  onEvent?: (event: IssuerEvent) => void
  /**
   * Redis (`REDIS_URL`): rate limits, revocations and used client assertions shared by every
   * instance.
   */
  sendCommand?: ((args: string[]) => Promise<unknown>) | undefined
  /**
   * Where the rate limiters report a Redis store error (express-rate-limit's `logger`), so that
   * it is a log record like every other line; its console by default.
   */
  limiterLogger?: LimiterLogger | undefined
  /** More `GET /ready` checks (server.ts adds Redis); a signing key is always checked. */
  readiness?: readonly ReadinessCheck[] | undefined
}

/**
 * Ready when a live token endpoint of this process has an active signing key, read from the
 * endpoints themselves (`ISSUER_CHANNELS.snapshot`), as the `ccflow_issuer_signing_keys` gauge
 * reads it.
 */
export const signingKeyCheck: ReadinessCheck = {
  name: 'signing_key',
  check() {
    const snapshots = collectSnapshots<IssuerSnapshot>(ISSUER_CHANNELS.snapshot)
    const active = snapshots.reduce((sum, s) => sum + s.signingKeys.active, 0)
    return active > 0 ? undefined : 'no_active_signing_key'
  },
}

/** Builds the token server app; throws a TypeError (from the issuer) on a bad config. */
export function createTokenServerApp(config: TokenServerAppConfig): Express {
  const app = express()
  app.disable('x-powered-by')
  // The per-IP failure limit keys on req.ip: trust X-Forwarded-For only as far as configured.
  app.set('trust proxy', config.trustProxy ?? false)

  // With Redis every instance counts into the same limits, sees the same revocations and accepts
  // each private_key_jwt assertion once; without, each process keeps its own (fine for one
  // instance).
  const shared =
    config.sendCommand === undefined
      ? { revocation: { store: memoryDenylist() } }
      : sharedThroughRedis(config.sendCommand, config.limiterLogger)

  // Liveness and readiness, for load balancers and orchestrators: no token needed.
  app.use(healthRoutes([signingKeyCheck, ...(config.readiness ?? [])]))

  // POST /token, /revoke, /introspect, GET /jwks.json and the metadata under the issuer.
  app.use(
    new URL(config.issuer).pathname,
    tokenEndpoint({
      issuer: config.issuer,
      clients: config.clients,
      keys: config.keys,
      ...(config.accessTokenTtlSeconds === undefined
        ? {}
        : { accessTokenTtlSeconds: config.accessTokenTtlSeconds }),
      ...(config.secretPepper === undefined ? {} : { secretPepper: config.secretPepper }),
      ...(config.onEvent === undefined ? {} : { onEvent: config.onEvent }),
      ...shared,
      introspection: true,
    }),
  )

  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found' })
  })
  const onError: ErrorRequestHandler = (err, _req, res, next) => {
    // Express's own handler closes a response that has already started.
    if (res.headersSent) {
      next(err)
      return
    }
    res.status(500).json({ error: 'server_error' })
  }
  app.use(onError)
  return app
}

/**
 * Both rate limiters (one prefix each), the revocation denylist and the replay store of
 * private_key_jwt assertions in Redis.
 */
function sharedThroughRedis(
  sendCommand: (args: string[]) => Promise<unknown>,
  logger: LimiterLogger | undefined,
) {
  // Adds a timeout, and lets rate-limit-redis recover when Redis was down at startup.
  const limiterCommand = rateLimitRedisCommand({ sendCommand })
  const store = (prefix: string): RedisStore =>
    new RedisStore({ sendCommand: limiterCommand, prefix })
  return {
    rateLimit: {
      failures: {
        store: store('ccflow:rl:failures:'),
        ...(logger === undefined ? {} : { logger }),
      },
      issuance: {
        store: store('ccflow:rl:issuance:'),
        ...(logger === undefined ? {} : { logger }),
      },
    },
    revocation: { store: redisDenylist({ sendCommand }) },
    // An assertion replayed to another instance is refused there too (RFC 7523 §3 item 7).
    privateKeyJwt: { replayStore: redisReplayStore({ sendCommand }) },
  }
}
