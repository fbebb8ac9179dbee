/**
 * An Express app that already has its own middleware (JSON body parsing, security headers, a
 * cookie session, an error handler) and mounts ccflow into it: the token endpoint under /oauth
 * and the guard on /api/reports. Neither side changes how the other behaves.
 */
import { randomUUID } from 'node:crypto'
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express'
import {
  type Client,
  type generateSigningKey,
  staticClientStore,
  tokenEndpoint,
} from '@ccflow/issuer'
import { requireScopes, requireToken } from '@ccflow/guard'

/** What the app needs: its public origin, its clients and one signing key pair. */
export interface ExistingAppConfig {
  /** The app's public origin, e.g. `http://127.0.0.1:4002`; the issuer is `<origin>/oauth`. */
  origin: string
  clients: readonly Client[]
  signingKey: ReturnType<typeof generateSigningKey>
}

/** The audience of the app's own API. */
export const API_AUDIENCE = 'https://existing-app.example/api'

// The app's own headers, written by hand where an app would use helmet.
const securityHeaders: RequestHandler = (_req, res, next) => {
  res.set({
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Content-Security-Policy': "default-src 'self'",
  })
  next()
}

// The app's own cookie session: a `sid` cookie keyed into an in-memory map.
function cookieSession(): RequestHandler {
  const sessions = new Map<string, { visits: number }>()
  return (req, res, next) => {
    const sid = /(?:^|;\s*)sid=([\w-]{36})(?:;|$)/.exec(req.headers.cookie ?? '')?.[1]
    const id = sid !== undefined && sessions.has(sid) ? sid : randomUUID()
    if (id !== sid) res.cookie('sid', id, { httpOnly: true, sameSite: 'lax', path: '/' })
    if (!sessions.has(id)) sessions.set(id, { visits: 0 })
    res.locals.session = sessions.get(id)
    next()
  }
}

/** Builds the app; it never listens (see server.ts). */
export function createExistingApp(config: ExistingAppConfig): Express {
  const issuer = `${config.origin}/oauth`
  const { kid, alg, privateKey, publicJwk } = config.signingKey
  const app = express()
  app.disable('x-powered-by')
  app.use(securityHeaders, express.json(), cookieSession())

  // The app's own JSON route: counts visits in the session and echoes the parsed body.
  app.post('/notes', (req, res) => {
    const session = res.locals.session as { visits: number }
    session.visits += 1
    res.status(201).json({ note: req.body as unknown, visits: session.visits })
  })

  // The app's own failure, rendered by the app's error handler below.
  app.get('/boom', () => {
    throw new Error('the app failed')
  })

  // ccflow's token endpoint, JWKS and metadata under /oauth.
  app.use(
    '/oauth',
    tokenEndpoint({
      issuer,
      clients: staticClientStore(config.clients),
      keys: [{ kid, alg, privateKey }],
    }),
  )

  // ccflow's guard on the app's API, verifying with the public half of the same key.
  const authenticate = requireToken({
    issuer,
    audience: API_AUDIENCE,
    keys: [{ key: publicJwk, kid, alg }],
  })
  app.get('/api/reports', authenticate, requireScopes('reports:read'), (req, res) => {
    res.json({ reports: [], client_id: req.auth?.clientId })
  })

  // The app's error handler: its own HTML page and marker header, for the app's errors only.
  const onError: ErrorRequestHandler = (err: { status?: unknown }, _req, res, next) => {
    // Express's own handler closes a response that has already started.
    if (res.headersSent) {
      next(err)
      return
    }
    const status = typeof err.status === 'number' && err.status < 500 ? err.status : 500
    res
      .status(status)
      .set('X-App-Error', 'handled')
      .type('html')
      .send('<h1>Sorry, that failed.</h1>')
  }
  app.use(onError)
  return app
}
