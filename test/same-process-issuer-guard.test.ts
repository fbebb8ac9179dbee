import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { requireToken, requireScopes } from '@ccflow/guard'
import { staticClientStore, tokenEndpoint } from '@ccflow/issuer'
import express from 'express'
import { afterEach, describe, expect, it } from 'vitest'
import { fetchToken, makeClient, makeSigningKey } from './helpers.js'

const AUDIENCE = 'https://reports.example'

// One Express app that is both the issuer and the API: the guard fetches the app's own JWKS.
// The guard is built with the app, before the app serves anything (as `app.listen()` after
// building it does), so its first fetch fails. The server binds 127.0.0.1:0 first, to know the
// URL; until the app "starts" it resets every connection, which is what a port nobody listens
// on does to the guard's fetch.
describe('an issuer and a guard in one app, started on 127.0.0.1:0', () => {
  let server: Server | undefined
  let close = (): void => undefined

  afterEach(async () => {
    close()
    if (server === undefined) return
    const open = server
    server = undefined
    await new Promise<void>((resolve) => {
      open.closeAllConnections()
      open.close(() => resolve())
    })
  })

  it('answers the first request after start with 200, although the guard’s first JWKS fetch failed', async () => {
    server = createServer()
    const serving: { app?: express.Express } = {}
    server.on('connection', (socket) => {
      if (serving.app === undefined) socket.destroy()
    })
    server.on('request', (req, res) => {
      serving.app?.(req, res)
    })
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

    const made = await makeClient({
      client_id: 'reporter',
      scope: 'reports:read',
      audiences: [AUDIENCE],
    })
    const built = express()
    built.use(
      tokenEndpoint({
        issuer: origin,
        clients: staticClientStore([made.client]),
        keys: [makeSigningKey('ES256').input],
      }),
    )
    const guard = requireToken({
      issuer: origin,
      audience: AUDIENCE,
      jwksUri: `${origin}/jwks.json`,
    })
    close = () => guard.close()
    built.get('/reports', guard, requireScopes('reports:read'), (req, res) => {
      res.json({ client: req.auth?.clientId })
    })

    // The fetch the guard started when it was built has failed: the app was not serving yet.
    await expect(guard.ready).rejects.toMatchObject({ reason: 'key_source_unavailable' })

    serving.app = built // the app starts
    const { access_token: token } = await fetchToken(`${origin}/token`, {
      clientId: 'reporter',
      secret: made.secret,
    })
    const res = await fetch(`${origin}/reports`, { headers: { authorization: `Bearer ${token}` } })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ client: 'reporter' })
  })
})
