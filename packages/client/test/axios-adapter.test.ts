import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import axios, { type AxiosInstance } from 'axios'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { attachTokenClient } from '../src/axios-adapter.js'
import { createTokenClient, type TokenClient } from '../src/token-client.js'
import { SECRET, startTokenServer, type TokenServer } from './helpers.js'

let server: TokenServer
let api: Server
let apiUrl: string
let tokens: TokenClient
const seen: string[] = []
/** Tokens the API answers 401 invalid_token for. */
const rejected = new Set<string>()

beforeEach(async () => {
  server = await startTokenServer()
  seen.length = 0
  rejected.clear()
  api = createServer((req, res) => {
    const authorization = req.headers.authorization ?? ''
    seen.push(authorization)
    if (rejected.has(authorization.replace(/^Bearer /, ''))) {
      res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end()
    } else if (req.url === '/forbidden') {
      res.writeHead(403, { 'www-authenticate': 'Bearer error="insufficient_scope"' }).end()
    } else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
  })
  api.listen(0, '127.0.0.1')
  await once(api, 'listening')
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`
  tokens = createTokenClient({
    tokenEndpoint: server.tokenEndpoint,
    clientId: 'billing',
    clientSecret: SECRET,
    scope: 'reports:read',
  })
})

afterEach(async () => {
  await tokens.close()
  api.closeAllConnections()
  await new Promise((resolve) => api.close(resolve))
  await server.close()
})

describe('attachTokenClient', () => {
  it('fits a real axios instance and sends the token on every request', async () => {
    const instance: AxiosInstance = axios.create({ baseURL: apiUrl })
    attachTokenClient(instance, tokens)
    await expect(instance.get('/reports')).resolves.toMatchObject({ data: { ok: true } })
    await instance.get('/reports')
    expect(seen).toEqual(['Bearer t1', 'Bearer t1'])
    expect(server.requests).toHaveLength(1)
  })

  it('asks for the scope and resource given to it', async () => {
    const instance = axios.create({ baseURL: apiUrl })
    attachTokenClient(instance, tokens, { scope: 'other' })
    await instance.get('/reports')
    expect(server.requests[0]?.form.get('scope')).toBe('other')
  })

  it('drops a token rejected with 401 invalid_token and retries once with a new one', async () => {
    rejected.add('t1')
    const instance = axios.create({ baseURL: apiUrl })
    attachTokenClient(instance, tokens)
    await expect(instance.post('/reports', { a: 1 })).resolves.toMatchObject({ status: 200 })
    expect(seen).toEqual(['Bearer t1', 'Bearer t2'])
  })

  it('passes a second 401, another status and a network error through unchanged', async () => {
    rejected.add('t1').add('t2')
    const instance = axios.create({ baseURL: apiUrl })
    attachTokenClient(instance, tokens)
    await expect(instance.get('/reports')).rejects.toMatchObject({ response: { status: 401 } })
    expect(seen).toEqual(['Bearer t1', 'Bearer t2'])
    await expect(instance.get('/forbidden')).rejects.toMatchObject({ response: { status: 403 } })
    const unreachable = axios.create({ baseURL: 'http://127.0.0.1:1' })
    attachTokenClient(unreachable, tokens)
    await expect(unreachable.get('/')).rejects.toMatchObject({ code: 'ECONNREFUSED' })
  })

  it('leaves requests alone once detached', async () => {
    const instance = axios.create({ baseURL: apiUrl })
    const detach = attachTokenClient(instance, tokens)
    detach()
    await instance.get('/reports')
    expect(seen).toEqual([''])
  })
})
