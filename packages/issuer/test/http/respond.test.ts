import express from 'express'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { errorBody, SERVER_ERROR_BODY, sendJson, setNoStore } from '../../src/http/respond.js'

describe('errorBody', () => {
  it('serializes { error, error_description } with the default wording', () => {
    expect(JSON.parse(errorBody('invalid_scope').toString())).toEqual({
      error: 'invalid_scope',
      error_description:
        'The requested scope is invalid, unknown, malformed, or exceeds what the client may request.',
    })
  })

  it('omits the description for a code without default wording', () => {
    expect(JSON.parse(errorBody('custom_code').toString())).toEqual({ error: 'custom_code' })
  })
})

describe('SERVER_ERROR_BODY', () => {
  it('says server_error and nothing about the cause', () => {
    expect(JSON.parse(SERVER_ERROR_BODY.toString())).toEqual({
      error: 'server_error',
      error_description: 'The server encountered an unexpected error.',
    })
  })
})

describe('sendJson and setNoStore', () => {
  it('write the status, JSON type, length, extra headers and no-store', async () => {
    const app = express()
    app.get('/', (_req, res) => {
      setNoStore(res)
      sendJson(res, 418, Buffer.from('{"a":1}'), { 'X-Extra': 'yes' })
    })
    const res = await request(app).get('/')
    expect(res.status).toBe(418)
    expect(res.headers).toMatchObject({
      'content-type': 'application/json',
      'content-length': '7',
      'x-extra': 'yes',
      'cache-control': 'no-store',
      pragma: 'no-cache',
    })
    expect(res.body).toEqual({ a: 1 })
  })
})
