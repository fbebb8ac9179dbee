/**
 * The resource server: an API whose routes are guarded by ccflow's requireToken and
 * requireScopes. Built from a config; it never listens (see server.ts).
 */
import { randomUUID } from 'node:crypto'
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express'
import { type GuardEvent, type RevocationCheck, requireScopes, requireToken } from '@ccflow/guard'
import { healthRoutes, type ReadinessCheck } from '../shared/health.js'
import { noteRequest } from '../shared/request-log.js'
import { keySetCheck } from './events.js'

/** What the app needs (see config.ts). */
export interface ResourceServerAppConfig {
  issuer: string
  audience: string
  /** The JWKS URL; without it the guard discovers it from the issuer's metadata. */
  jwksUri?: string | undefined
  /** Refuses revoked tokens (server.ts builds it from REDIS_URL with redisRevocationCheck). */
  isRevoked?: RevocationCheck | undefined
  /** The guard's events (server.ts logs them and feeds the key-set readiness check). */
  onEvent?: ((event: GuardEvent) => void) | undefined
  /** More `GET /ready` checks (server.ts adds Redis); the guard's key set is always checked. */
  readiness?: readonly ReadinessCheck[] | undefined
  /**
   * Called by `GET /ready` while the guard has no usable key set, to make it fetch again
   * (server.ts sends it a probe request); see `keySetCheck`.
   */
  refreshKeys?: (() => void) | undefined
}

/**
 * A well-formed token whose key no issuer has (`kid` `ccflow-readiness-probe`): sent to the guard
 * by the readiness check to make it look for keys; always refused.
 */
export const PROBE_TOKEN = [
  { alg: 'ES256', typ: 'at+jwt', kid: 'ccflow-readiness-probe' },
  { iss: 'probe' },
]
  .map((part) => Buffer.from(JSON.stringify(part)).toString('base64url'))
  // A signature of the right shape for ES256 (64 bytes, r and s not zero), so the guard looks
  // for the key.
  .concat(Buffer.alloc(64, 1).toString('base64url'))
  .join('.')

// The caller of an accepted request, for its log line.
const noteCaller: RequestHandler = (req, _res, next) => {
  noteRequest({ clientId: req.auth?.clientId })
  next()
}

interface Report {
  id: string
  title: string
  created_by: string | undefined
}

/** Builds the resource server app; throws a TypeError (from the guard) on a bad config. */
export function createResourceServerApp(config: ResourceServerAppConfig): Express {
  const guard = requireToken({
    issuer: config.issuer,
    audience: config.audience,
    ...(config.jwksUri === undefined ? { discover: true } : { jwksUri: config.jwksUri }),
    ...(config.isRevoked === undefined ? {} : { isRevoked: config.isRevoked }),
    ...(config.onEvent === undefined ? {} : { onEvent: config.onEvent }),
  })
  const reports: Report[] = [{ id: 'r-1', title: 'Quarterly numbers', created_by: undefined }]
  const app = express()
  app.disable('x-powered-by')

  // Public: liveness and readiness, for load balancers and orchestrators.
  app.use(
    healthRoutes([
      keySetCheck(() => guard.stats(), config.refreshKeys),
      ...(config.readiness ?? []),
    ]),
  )

  // Any valid token: who is calling, with which scopes, for which audience.
  app.get('/whoami', guard, noteCaller, (req, res) => {
    res.json({
      client_id: req.auth?.clientId,
      scope: req.auth?.claims.scope,
      aud: req.auth?.claims.aud,
    })
  })

  // Needs reports:read.
  app.get('/reports', guard, noteCaller, requireScopes('reports:read'), (_req, res) => {
    res.json({ reports })
  })

  // Needs reports:write; the body is parsed only after the token is accepted.
  app.post(
    '/reports',
    guard,
    noteCaller,
    requireScopes('reports:write'),
    express.json({ limit: '16kb' }),
    (req, res) => {
      const title: unknown = (req.body as { title?: unknown } | undefined)?.title
      if (typeof title !== 'string' || title.trim() === '' || title.length > 200) {
        res
          .status(400)
          .json({ error: 'invalid_body', error_description: 'title: 1-200 characters' })
        return
      }
      const report = { id: randomUUID(), title, created_by: req.auth?.clientId }
      reports.push(report)
      res.status(201).json(report)
    },
  )

  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found' })
  })
  // Body-parser errors carry a 4xx status; anything else is ours and stays undisclosed.
  const onError: ErrorRequestHandler = (err: { status?: unknown }, _req, res, next) => {
    // Express's own handler closes a response that has already started.
    if (res.headersSent) {
      next(err)
      return
    }
    const status =
      typeof err.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500
    res.status(status).json({ error: status === 500 ? 'server_error' : 'bad_request' })
  }
  app.use(onError)
  return app
}
