import { forgetWarnings } from '@ccflow/core'
import request from 'supertest'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { GuardEvent } from '../../src/events.js'
import { requireToken } from '../../src/require-token.js'
import { createTokenVerifier } from '../../src/verify/verifier.js'
import { startKeyServer, status, type TestKeyServer } from '../../../core/test/jwks-server.js'
import {
  accessClaims,
  AUDIENCE,
  bodyOf,
  craftToken,
  createApp,
  ISSUER,
  nowSeconds,
  rsaKeyPair,
} from '../helpers.js'
import { captureWarnings, type CapturedWarning } from '../../../core/test/warnings.js'

const rsa = rsaKeyPair()
const HEADER = { alg: 'RS256', typ: 'at+jwt', kid: 'k1' }
const staticOptions = {
  issuer: ISSUER,
  audience: AUDIENCE,
  keys: [{ key: rsa.publicKey, kid: 'k1' }],
}

function token(claims: Record<string, unknown> = {}): string {
  return craftToken(HEADER, accessClaims(claims), rsa.privateKey)
}

let warnings: CapturedWarning[]
let server: TestKeyServer

beforeEach(async () => {
  warnings = captureWarnings()
  server = await startKeyServer()
})

afterEach(async () => {
  forgetWarnings('')
  vi.restoreAllMocks()
  vi.unstubAllEnvs()
  await server.close()
})

describe('key-source events', () => {
  it('go to onEvent, and no warning is written', async () => {
    server.route('/jwks.json', status(404))
    const events: GuardEvent[] = []
    const verifier = createTokenVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksUri: server.url('/jwks.json'),
      onEvent: (event) => events.push(event),
    })
    try {
      await verifier.ready.catch(() => undefined)
      expect(events).toEqual([
        expect.objectContaining({
          type: 'jwks_fetch_failed',
          uri: server.url('/jwks.json'),
          reason: 'http_status',
          status: 404,
        }),
      ])
      expect(warnings).toEqual([])
    } finally {
      verifier.close()
    }
  })

  it('without a hook, are one warning with the URL while every request gets 503', async () => {
    server.route('/jwks.json', status(404))
    const guard = requireToken({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksUri: server.url('/jwks.json'),
    })
    try {
      await guard.ready.catch(() => undefined)
      const app = createApp(guard)
      for (let i = 0; i < 3; i++) {
        const res = await request(app).get('/api').set('Authorization', `Bearer ${token()}`)
        expect(res.status).toBe(503)
        expect(bodyOf(res)).toMatchObject({ reason: 'key_source_unavailable' })
      }
      expect(warnings).toEqual([
        {
          code: 'CCFLOW_GUARD_KEY_SOURCE',
          message: `requireToken: cannot load keys: the JWKS at ${server.url('/jwks.json')} answered HTTP 404; requests that need keys are answered 503 key_source_unavailable until keys load`,
        },
      ])
    } finally {
      guard.close()
    }
  })

  it('without a hook, name both issuers when the metadata names another one', async () => {
    const issuer = server.origin.replace('127.0.0.1', 'localhost')
    server.route('/.well-known/oauth-authorization-server', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ issuer: server.origin, jwks_uri: server.url('/jwks.json') }))
    })
    const guard = requireToken({ issuer, audience: AUDIENCE, discover: true })
    try {
      await expect(guard.ready).rejects.toMatchObject({ reason: 'key_source_unavailable' })
      expect(warnings).toHaveLength(1)
      expect(warnings[0]?.message).toContain(
        `names issuer "${server.origin}", but option "issuer" is "${issuer}" (the hosts differ: "localhost" and "127.0.0.1")`,
      )
    } finally {
      guard.close()
    }
  })
})

describe('token_rejected', () => {
  it('goes to onEvent for every refused token, with both audiences for wrong_audience', async () => {
    const events: GuardEvent[] = []
    const verifier = createTokenVerifier({ ...staticOptions, onEvent: (e) => events.push(e) })
    await expect(verifier.verify(token({ aud: 'https://other.example' }))).rejects.toThrow()
    await expect(verifier.verify(token({ iss: 'https://evil.example' }))).rejects.toThrow()
    await expect(verifier.verify(token({ exp: nowSeconds() - 60 }))).rejects.toThrow()
    expect(events).toEqual([
      {
        type: 'token_rejected',
        reason: 'wrong_audience',
        mismatch: { claim: 'aud', expected: [AUDIENCE], actual: 'https://other.example' },
      },
      {
        type: 'token_rejected',
        reason: 'wrong_issuer',
        mismatch: { claim: 'iss', expected: [ISSUER], actual: 'https://evil.example' },
      },
      { type: 'token_rejected', reason: 'token_expired' },
    ])
    expect(warnings).toEqual([])
  })

  it('without a hook outside production, is one warning per distinct audience, and the response names no value', async () => {
    vi.stubEnv('NODE_ENV', 'development')
    const app = createApp(requireToken(staticOptions))
    for (let i = 0; i < 3; i++) {
      const res = await request(app)
        .get('/api')
        .set('Authorization', `Bearer ${token({ aud: 'https://reports.example' })}`)
      expect(res.status).toBe(401)
      expect(JSON.stringify(res.body)).not.toContain('reports.example')
      expect(JSON.stringify(res.headers)).not.toContain('reports.example')
    }
    expect(warnings).toEqual([
      {
        code: 'CCFLOW_GUARD_TOKEN_MISMATCH',
        message: expect.stringContaining(
          `its aud is "https://reports.example", but option "audience" is "${AUDIENCE}"`,
        ) as unknown,
      },
    ])
  })

  it('without a hook in production, writes nothing', async () => {
    vi.stubEnv('NODE_ENV', 'production')
    const verifier = createTokenVerifier(staticOptions)
    await expect(verifier.verify(token({ aud: 'https://reports.example' }))).rejects.toThrow()
    expect(warnings).toEqual([])
  })

  it('never puts the token in a warning', async () => {
    const bad = token({ aud: 'https://elsewhere.example' })
    await expect(createTokenVerifier(staticOptions).verify(bad)).rejects.toThrow()
    expect(warnings).toHaveLength(1)
    for (const part of bad.split('.')) expect(warnings[0]?.message).not.toContain(part)
  })
})
