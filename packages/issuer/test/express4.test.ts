import express from 'express'
import request from 'supertest'
import { describe, expect, it, vi } from 'vitest'
import type { ClientStore } from '../src/clients/client-store.js'
import { tokenEndpoint } from '../src/token-endpoint.js'
import { NO_STORE, baseOptions, basic, createApp, form, secrets } from './helpers.js'

// The token route must behave the same on Express 4 (body-parser 1, router 1, no promise
// forwarding) as on 5. This file swaps Express 4 in for every module it loads, the router's own
// import included; Express 4 comes from the cross-package test workspace, which installs it as
// the `express4` alias.
vi.mock('express', async () => {
  const { createRequire } = await import('node:module')
  const require = createRequire(new URL('../../../test/package.json', import.meta.url))
  const express4 = require('express4') as object
  return { ...express4, default: express4 }
})

const GRANT = form({ grant_type: 'client_credentials' })
const auth = basic('reporter', secrets.reporter.secret)

describe('the token route on Express 4', () => {
  it('runs on Express 4', () => {
    expect('query' in express).toBe(true)
  })

  it('issues a token', async () => {
    const res = await request(createApp({ rateLimit: false }))
      .post('/token')
      .set('Authorization', auth)
      .type('form')
      .send(GRANT)
    expect(res.status).toBe(200)
    expect(res.headers).toMatchObject(NO_STORE)
    expect((res.body as { token_type: string }).token_type).toBe('Bearer')
  })

  it('answers 401 invalid_client with the Basic challenge', async () => {
    const res = await request(createApp({ rateLimit: false }))
      .post('/token')
      .set('Authorization', basic('reporter', 'wrong'))
      .type('form')
      .send(GRANT)
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toBe('Basic realm="ccflow"')
  })

  it('answers 413 JSON for an oversized body', async () => {
    const res = await request(createApp({ rateLimit: false }))
      .post('/token')
      .set('Authorization', auth)
      .type('form')
      .send(`${GRANT}&pad=${'a'.repeat(100 * 1024)}`)
    expect(res.status).toBe(413)
    expect(res.headers).toMatchObject(NO_STORE)
    expect((res.body as { error: string }).error).toBe('invalid_request')
  })

  it('answers 405 with Allow', async () => {
    const res = await request(createApp({ rateLimit: false })).get('/token')
    expect(res.status).toBe(405)
    expect(res.headers.allow).toBe('POST')
  })

  it('refuses a repeated parameter', async () => {
    const res = await request(createApp({ rateLimit: false }))
      .post('/token')
      .set('Authorization', auth)
      .type('form')
      .send(`${GRANT}&scope=orders:read&scope=reports:read`)
    expect(res.status).toBe(400)
    expect((res.body as { error: string }).error).toBe('invalid_request')
  })

  it('accepts a JSON body when allowed', async () => {
    const res = await request(createApp({ rateLimit: false, allowJsonBody: true }))
      .post('/token')
      .set('Authorization', auth)
      .send({ grant_type: 'client_credentials' })
    expect(res.status).toBe(200)
  })

  it('answers a generic 500 when the client store rejects (no promise forwarding needed)', async () => {
    const failing: ClientStore = { findClient: () => Promise.reject(new Error('down')) }
    const res = await request(createApp({ rateLimit: false, clients: failing, onEvent: () => {} }))
      .post('/token')
      .set('Authorization', auth)
      .type('form')
      .send(GRANT)
    expect(res.status).toBe(500)
    expect((res.body as { error: string }).error).toBe('server_error')
  })

  it('rate-limits failed authentications', async () => {
    const app = createApp({ rateLimit: { failures: { limit: 1 }, issuance: false } })
    const bad = (): request.Test =>
      request(app).post('/token').set('Authorization', 'Basic Og==').type('form').send(GRANT)
    expect((await bad()).status).toBe(401)
    const res = await bad()
    expect(res.status).toBe(429)
    expect(res.headers['retry-after']).toMatch(/^[1-9][0-9]*$/)
  })

  it("works behind an app-level extended urlencoded parser and leaves the app's errors alone", async () => {
    const app = express()
    app.use(express.urlencoded({ extended: true }))
    app.use('/fail', (_req, _res, next) => {
      next(new Error('app'))
    })
    app.use(tokenEndpoint(baseOptions({ rateLimit: false })))
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    const appErrors: express.ErrorRequestHandler = (err: Error, _req, res, _next) => {
      res.status(418).json({ app: err.message })
    }
    app.use(appErrors)
    const ok = await request(app).post('/token').set('Authorization', auth).type('form').send(GRANT)
    expect(ok.status).toBe(200)
    const nested = await request(app)
      .post('/token')
      .set('Authorization', auth)
      .type('form')
      .send(`${GRANT}&scope[x]=1`)
    expect(nested.status).toBe(400)
    const failed = await request(app).post('/fail/token')
    expect(failed.status).toBe(418)
  })
})
