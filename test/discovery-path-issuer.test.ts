import { requireToken } from '@ccflow/guard'
import { staticClientStore, tokenEndpoint } from '@ccflow/issuer'
import express from 'express'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  fetchToken,
  type Listening,
  listenOnEphemeralPort,
  makeClient,
  makeSigningKey,
} from './helpers.js'

const AUDIENCE = 'https://reports.example'

describe('an issuer with a path, mounted at that path, and a guard that discovers it', () => {
  let issuer: Listening
  let token: string

  beforeAll(async () => {
    const made = await makeClient({
      client_id: 'tenant-app',
      scope: 'reports:read',
      audiences: [AUDIENCE],
    })
    issuer = await listenOnEphemeralPort((origin) => {
      const app = express()
      app.use(
        '/tenant/a',
        tokenEndpoint({
          issuer: `${origin}/tenant/a`,
          clients: staticClientStore([made.client]),
          keys: [makeSigningKey('ES256').input],
        }),
      )
      return app
    })
    token = (
      await fetchToken(`${issuer.url}/tenant/a/token`, {
        clientId: 'tenant-app',
        secret: made.secret,
      })
    ).access_token
  })
  afterAll(() => issuer.close())

  it('finds the metadata appended to the issuer path and accepts the issuer’s tokens', async () => {
    const guard = requireToken({
      issuer: `${issuer.url}/tenant/a`,
      audience: AUDIENCE,
      discover: true,
    })
    try {
      await guard.ready
      const api = express()
      api.get('/reports', guard, (req, res) => {
        res.json({ client: req.auth?.clientId })
      })
      const res = await request(api).get('/reports').set('Authorization', `Bearer ${token}`)
      expect(res.status).toBe(200)
      expect(res.body).toEqual({ client: 'tenant-app' })
    } finally {
      guard.close()
    }
  })

  it('answers 503, not 401, when the configured issuer publishes no metadata', async () => {
    const guard = requireToken({ issuer: issuer.url, audience: AUDIENCE, discover: true })
    try {
      await guard.ready.catch(() => undefined)
      const api = express()
      api.get('/reports', guard, (_req, res) => {
        res.json({ ok: true })
      })
      const res = await request(api).get('/reports').set('Authorization', `Bearer ${token}`)
      expect(res.status).toBe(503)
    } finally {
      guard.close()
    }
  })
})
