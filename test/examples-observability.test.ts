import { ServerResponse, IncomingMessage } from 'node:http'
import { Socket } from 'node:net'
import express from 'express'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import type { GuardStats } from '@ccflow/guard'
import { keySetCheck, logGuardEvents } from '../examples/resource-server/events.js'
import { ConfigError } from '../examples/shared/env.js'
import { healthRoutes } from '../examples/shared/health.js'
import { logLevel } from '../examples/shared/log.js'
import { formatRecord } from '../examples/shared/pretty.js'
import {
  type RequestFacts,
  noteRequest,
  requestLine,
  withRequestFacts,
} from '../examples/shared/request-log.js'
import { telemetryConfig } from '../examples/shared/telemetry.js'
import { logIssuerEvents } from '../examples/token-server/events.js'
import { memoryLogger } from './support/logs.js'

/** A finished response with `status` and, optionally, a `WWW-Authenticate` header. */
function response(status: number, challenge?: string): ServerResponse {
  const res = new ServerResponse(new IncomingMessage(new Socket()))
  res.statusCode = status
  if (challenge !== undefined) res.setHeader('www-authenticate', challenge)
  return res
}

/** What `emit` notes about one request. */
function noted(emit: () => void): RequestFacts {
  const facts: RequestFacts = {}
  withRequestFacts(facts, emit)
  return facts
}

describe('examples: the request log line', () => {
  it.each([
    [200, undefined, 'success'],
    [401, 'Bearer realm="api"', 'missing_token'],
    [401, 'Bearer realm="api", error="invalid_token"', 'invalid_token'],
    [401, 'Basic realm="token"', 'client_error'],
    [404, undefined, 'not_found'],
    [413, undefined, 'client_error'],
    [503, undefined, 'unavailable'],
    [500, undefined, 'server_error'],
  ])('says outcome of status %i with challenge %s is %s', (status, challenge, outcome) => {
    expect(requestLine('GET', '/x', response(status, challenge), 1.234, {})).toEqual({
      method: 'GET',
      route: '/x',
      status,
      duration_ms: 1.2,
      outcome,
    })
  })

  it('prefers what the events noted, cuts long paths and client ids', () => {
    const facts = noted(() => {
      noteRequest({ outcome: 'invalid_client', reason: 'wrong_secret', clientId: 'c'.repeat(500) })
      // A later event without those fields keeps them.
      noteRequest({ outcome: undefined, clientId: undefined })
    })
    const line = requestLine(undefined, `/${'p'.repeat(500)}`, response(401), 0, facts)
    expect(line).toMatchObject({ method: '-', outcome: 'invalid_client', reason: 'wrong_secret' })
    expect(line.route).toHaveLength(200)
    expect(line.client_id).toHaveLength(128)
  })

  it('ignores notes made outside a request', () => {
    expect(() => noteRequest({ outcome: 'success' })).not.toThrow()
  })
})

describe('examples: the issuer event hook', () => {
  const { logger, records } = memoryLogger('token-server')
  const onEvent = logIssuerEvents(logger)
  const ip = '127.0.0.1'

  it.each([
    [
      {
        type: 'token_issued',
        clientId: 'a',
        scope: 's',
        audience: 'x',
        jti: 'J',
        expiresAt: 1,
        ip,
      },
      { outcome: 'success', clientId: 'a' },
    ],
    [
      { type: 'token_revoked', clientId: 'a', jti: 'J', expiresAt: 1, ip },
      { outcome: 'success', clientId: 'a' },
    ],
    [
      { type: 'authentication_failed', reason: 'wrong_secret', clientId: 'a', ip },
      { outcome: 'invalid_client', reason: 'wrong_secret', clientId: 'a' },
    ],
    [
      { type: 'token_request_rejected', error: 'invalid_scope', reason: 'scope_not_allowed', ip },
      { outcome: 'invalid_scope', reason: 'scope_not_allowed' },
    ],
    [
      { type: 'rate_limited', limiter: 'failures', ip },
      { outcome: 'too_many_requests', reason: 'failures_limit' },
    ],
    [{ type: 'server_error', error: new Error('store down'), ip }, { outcome: 'server_error' }],
    [{ type: 'assertion_legacy_audience', clientId: 'a', ip }, {}],
  ] as const)('notes %o as %o, never the jti', (event, facts) => {
    expect(noted(() => onEvent(event))).toEqual(facts)
    expect(JSON.stringify(records())).not.toContain('"J"')
  })

  it('logs server errors with the error, and client key-set trouble as warnings', () => {
    onEvent({ type: 'server_error', error: new Error('store down'), ip })
    const uri = 'https://client.example/jwks'
    onEvent({
      type: 'client_jwks',
      jwksUri: uri,
      detail: { type: 'jwks_fetched', uri, keys: 1, maxAge: 60 },
    })
    onEvent({
      type: 'client_jwks',
      jwksUri: uri,
      detail: { type: 'jwks_key_skipped', uri, kid: 'k', reason: 'unsupported_type' },
    })
    onEvent({
      type: 'client_jwks',
      jwksUri: uri,
      detail: { type: 'jwks_fetch_failed', uri, reason: 'timeout', retryAt: 0 },
    })
    const logged = records()
    expect(logged).toContainEqual(
      expect.objectContaining({
        level: 'error',
        err: expect.objectContaining({ message: 'store down' }) as unknown,
      }),
    )
    expect(logged).toContainEqual(
      expect.objectContaining({ level: 'debug', msg: 'client jwks fetched', keys: 1 }),
    )
    expect(logged).toContainEqual(
      expect.objectContaining({ level: 'warn', reason: 'unsupported_type' }),
    )
    expect(logged).toContainEqual(
      expect.objectContaining({ level: 'warn', msg: 'client jwks unavailable', reason: 'timeout' }),
    )
    expect(logged).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        client_id: 'a',
        msg: expect.stringMatching(/^client assertion/) as string,
      }),
    )
  })
})

describe('examples: the guard event hook and key-set readiness', () => {
  const uri = 'https://issuer.example/jwks.json'
  type Jwks = NonNullable<GuardStats['jwks']>
  const stats = (jwks: Partial<Jwks> | undefined, keys = 2): GuardStats => ({
    keySource: jwks === undefined ? 'static' : 'remote',
    keys,
    cache: { size: 0, max: 1000, hits: 0, misses: 0 },
    jwks:
      jwks === undefined
        ? undefined
        : {
            fresh: false,
            fetches: 1,
            lastFetchAt: undefined,
            lastSuccessAt: undefined,
            expiresAt: undefined,
            lastError: undefined,
            consecutiveFailures: 0,
            staleServed: 0,
            ...jwks,
          },
  })

  it('is ready once the set is loaded, not before, nor past max-age plus an hour of failures; asks for a refresh while not', () => {
    let refreshes = 0
    const now = 10_000_000
    const check = (jwks: Partial<Jwks> | undefined, keys?: number) =>
      keySetCheck(
        () => stats(jwks, keys),
        () => refreshes++,
        () => now,
      ).check()
    expect(check({ consecutiveFailures: 1 })).toBe('key_set_not_loaded')
    expect(refreshes).toBe(1)
    expect(check({ lastSuccessAt: 1, fresh: true, expiresAt: now + 1 })).toBeUndefined()
    // Past max-age, nothing failed: the next request refreshes it.
    expect(check({ lastSuccessAt: 1, expiresAt: 2 })).toBeUndefined()
    // Refreshes failing, within the stale hour: still served.
    expect(
      check({ lastSuccessAt: 1, expiresAt: now - 3_599_000, consecutiveFailures: 3 }),
    ).toBeUndefined()
    expect(check({ lastSuccessAt: 1, expiresAt: now - 3_601_000, consecutiveFailures: 3 })).toBe(
      'key_set_stale',
    )
    expect(refreshes).toBe(2)
    // Static keys: ready with keys, never refreshed.
    expect(check(undefined)).toBeUndefined()
    expect(check(undefined, 0)).toBe('no_keys')
    expect(refreshes).toBe(2)
  })

  it('logs key-set events, and notes a refused token with its reason', () => {
    const { logger, records } = memoryLogger('resource-server')
    const onEvent = logGuardEvents(logger)
    onEvent({ type: 'jwks_fetch_failed', uri, reason: 'network', retryAt: 0 })
    onEvent({ type: 'jwks_fetched', uri, keys: 2, maxAge: 600 })
    onEvent({
      type: 'discovery_failed',
      issuer: 'https://issuer.example',
      uri,
      reason: 'timeout',
      retryAt: 0,
    })
    onEvent({ type: 'jwks_key_skipped', uri, kid: 'k', reason: 'unsupported_type' })
    expect(records().map((r) => [r.level, r.msg])).toEqual([
      ['warn', 'jwks fetch failed'],
      ['info', 'jwks fetched'],
      ['warn', 'issuer metadata unusable'],
      ['warn', 'jwks key skipped'],
    ])
    expect(noted(() => onEvent({ type: 'token_rejected', reason: 'token_expired' }))).toEqual({
      outcome: 'invalid_token',
      reason: 'token_expired',
    })
  })
})

describe('examples: /health and /ready', () => {
  it('reports a check that throws as <name>_check_failed, and every failing check', async () => {
    const app = express().use(
      healthRoutes([
        { name: 'fine', check: () => undefined },
        { name: 'store', check: () => Promise.reject(new Error('down')) },
        { name: 'redis', check: () => Promise.resolve('redis_unreachable') },
      ]),
    )
    const res = await request(app).get('/ready')
    expect([res.status, res.body]).toEqual([
      503,
      { status: 'not_ready', reasons: ['store_check_failed', 'redis_unreachable'] },
    ])
    expect((await request(app).get('/health')).body).toEqual({ status: 'ok' })
  })
})

describe('examples: LOG_LEVEL and OpenTelemetry settings', () => {
  it('reads LOG_LEVEL, info by default, in any case', () => {
    expect(logLevel({})).toBe('info')
    expect(logLevel({ LOG_LEVEL: 'DEBUG' })).toBe('debug')
    expect(logLevel({ LOG_LEVEL: 'silent' })).toBe('silent')
    expect(() => logLevel({ LOG_LEVEL: 'loud' })).toThrow(ConfigError)
  })

  it('reads OTEL_EXPORTER_OTLP_ENDPOINT and the export intervals; nothing without an endpoint', () => {
    expect(telemetryConfig({ OTEL_BSP_SCHEDULE_DELAY: '10' })).toBeUndefined()
    expect(telemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toEqual({
      endpoint: 'http://127.0.0.1:4318',
      serviceName: undefined,
      spanDelayMs: 5000,
      metricIntervalMs: 60_000,
    })
    expect(
      telemetryConfig({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector.example/otlp/',
        OTEL_SERVICE_NAME: 'auth',
        OTEL_BSP_SCHEDULE_DELAY: '100',
        OTEL_METRIC_EXPORT_INTERVAL: '1000',
      }),
    ).toEqual({
      endpoint: 'https://collector.example/otlp/',
      serviceName: 'auth',
      spanDelayMs: 100,
      metricIntervalMs: 1000,
    })
    expect(() => telemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'grpc://x' })).toThrow(
      'OTEL_EXPORTER_OTLP_ENDPOINT must be an absolute http(s) URL',
    )
    expect(() =>
      telemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x', OTEL_BSP_SCHEDULE_DELAY: '0' }),
    ).toThrow('OTEL_BSP_SCHEDULE_DELAY must be a whole number of milliseconds from 1 to 3600000')
  })
})

describe('examples: the demo log lines', () => {
  it('prints a request as method, path, status, time, outcome, reason and client', () => {
    const base = { level: 'info', program: 'token-server', msg: 'request' }
    expect(
      formatRecord({
        ...base,
        method: 'POST',
        route: '/token',
        status: 401,
        duration_ms: 2.5,
        outcome: 'invalid_client',
        reason: 'wrong_secret',
        client_id: 'demo',
      }),
    ).toBe(
      '    [token-server] POST /token 401 2.5ms invalid_client reason=wrong_secret client_id=demo',
    )
    expect(formatRecord({ level: 'warn', program: 'api', msg: 'jwks fetch failed', uri: {} })).toBe(
      '    [api] WARN jwks fetch failed',
    )
  })
})
