/**
 * The token server: an Express app that serves only ccflow's token endpoint, its JWKS and its
 * RFC 8414 metadata at the issuer's path. Built from a config; it never listens (see server.ts).
 */
import express, { type ErrorRequestHandler, type Express } from 'express'
import {
  type Client,
  type IssuerEvent,
  type SigningKeyInput,
  staticClientStore,
  tokenEndpoint,
} from '@ccflow/issuer'
import type { TrustProxy } from '../shared/env.js'

/** What the app needs; `loadTokenServerConfig()` gives all of it except the final issuer. */
export interface TokenServerAppConfig {
  /** The issuer URL, exactly as it appears in `iss` and in the metadata. */
  issuer: string
  clients: readonly Client[]
  keys: readonly SigningKeyInput[]
  accessTokenTtl?: number | undefined
  secretPepper?: string | undefined
  trustProxy?: TrustProxy
  onEvent?: (event: IssuerEvent) => void
}

/** Builds the token server app; throws a TypeError (from the issuer) on a bad config. */
export function createTokenServerApp(config: TokenServerAppConfig): Express {
  const app = express()
  app.disable('x-powered-by')
  // The per-IP failure limit keys on req.ip: trust X-Forwarded-For only as far as configured.
  app.set('trust proxy', config.trustProxy ?? false)

  // POST /token, GET /jwks.json, GET /.well-known/oauth-authorization-server under the issuer.
  app.use(
    new URL(config.issuer).pathname,
    tokenEndpoint({
      issuer: config.issuer,
      clients: staticClientStore(config.clients),
      keys: config.keys,
      ...(config.accessTokenTtl === undefined ? {} : { accessTokenTtl: config.accessTokenTtl }),
      ...(config.secretPepper === undefined ? {} : { secretPepper: config.secretPepper }),
      ...(config.onEvent === undefined ? {} : { onEvent: config.onEvent }),
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
