import { forgetWarnings } from '@ccflow/core'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { defaultReport, differenceHint } from '../../src/diagnostics/warnings.js'
import { captureWarnings, type CapturedWarning } from '../../../core/test/warnings.js'

let warnings: CapturedWarning[]

beforeEach(() => {
  warnings = captureWarnings()
})

afterEach(() => {
  forgetWarnings('')
  vi.restoreAllMocks()
})

const JWKS = 'https://auth.example.com/jwks.json'
const retryAt = 0

describe('defaultReport', () => {
  it('warns once per distinct JWKS failure with the URL and what went wrong', () => {
    const report = defaultReport('requireToken', JWKS, true)
    for (let i = 0; i < 3; i++) {
      report({ type: 'jwks_fetch_failed', uri: JWKS, reason: 'http_status', status: 404, retryAt })
    }
    report({ type: 'jwks_fetch_failed', uri: JWKS, reason: 'timeout', retryAt })
    expect(warnings).toEqual([
      {
        code: 'CCFLOW_GUARD_KEY_SOURCE',
        message: `requireToken: cannot load keys: the JWKS at ${JWKS} answered HTTP 404; requests that need keys are answered 503 key_source_unavailable until keys load`,
      },
      {
        code: 'CCFLOW_GUARD_KEY_SOURCE',
        message: expect.stringContaining(
          `the JWKS at ${JWKS} did not answer within jwks.timeoutMs`,
        ) as unknown,
      },
    ])
  })

  it('warns again about a failure that comes back after a successful fetch', () => {
    const report = defaultReport('requireToken', JWKS, true)
    const failed = { type: 'jwks_fetch_failed', uri: JWKS, reason: 'network', retryAt } as const
    report(failed)
    report({ type: 'jwks_fetched', uri: JWKS, keys: 1, maxAge: 600 })
    report(failed)
    expect(warnings).toHaveLength(2)
    expect(warnings[0]?.message).toContain('could not be reached (connection failed)')
  })

  it('says nothing about a fetch abandoned because the guard was closed', () => {
    const report = defaultReport('requireToken', JWKS, true)
    report({ type: 'jwks_fetch_failed', uri: JWKS, reason: 'aborted', retryAt })
    report({
      type: 'discovery_failed',
      issuer: 'https://auth.example.com',
      uri: 'https://auth.example.com/.well-known/oauth-authorization-server',
      reason: 'aborted',
      retryAt,
    })
    expect(warnings).toEqual([])
  })

  it('names both issuer values when the metadata names another issuer', () => {
    const issuer = 'http://localhost:4000'
    defaultReport(
      'requireToken',
      issuer,
      true,
    )({
      type: 'discovery_failed',
      issuer,
      uri: `${issuer}/.well-known/oauth-authorization-server`,
      reason: 'issuer_mismatch',
      metadataIssuer: 'http://127.0.0.1:4000',
      retryAt,
    })
    expect(warnings).toEqual([
      {
        code: 'CCFLOW_GUARD_KEY_SOURCE',
        message:
          `requireToken: the metadata at ${issuer}/.well-known/oauth-authorization-server names ` +
          'issuer "http://127.0.0.1:4000", but option "issuer" is "http://localhost:4000" ' +
          '(the hosts differ: "localhost" and "127.0.0.1"); they must be equal character for ' +
          'character (RFC 8414 §3.3); requests that need keys are answered 503 ' +
          'key_source_unavailable until keys load',
      },
    ])
  })

  it('says when metadata names no issuer at all', () => {
    const issuer = 'https://auth.example.com'
    defaultReport(
      'requireToken',
      issuer,
      true,
    )({
      type: 'discovery_failed',
      issuer,
      uri: `${issuer}/.well-known/oauth-authorization-server`,
      reason: 'issuer_mismatch',
      retryAt,
    })
    expect(warnings[0]?.message).toMatch(/ names no issuer, but option "issuer" is /)
  })

  it.each([
    ['http_status', 404, 'answered HTTP 404'],
    ['invalid_shape', undefined, 'answered metadata without a usable jwks_uri'],
    ['invalid_json', undefined, 'did not answer JSON'],
  ] as const)('explains a failed discovery (%s) with the metadata URL', (reason, status, what) => {
    const issuer = 'https://auth.example.com/tenant'
    const uri = 'https://auth.example.com/tenant/.well-known/openid-configuration'
    defaultReport(
      'createTokenVerifier',
      issuer,
      true,
    )({
      type: 'discovery_failed',
      issuer,
      uri,
      reason,
      ...(status === undefined ? {} : { status }),
      retryAt,
    })
    expect(warnings[0]?.message).toBe(
      `createTokenVerifier: cannot discover the keys of issuer "${issuer}": ${uri} ${what}; ` +
        'requests that need keys are answered 503 key_source_unavailable until keys load',
    )
  })

  it('warns once about a JWKS key it cannot use, even across refetches', () => {
    const report = defaultReport('requireToken', JWKS, true)
    for (let i = 0; i < 2; i++) {
      report({ type: 'jwks_key_skipped', uri: JWKS, kid: 'k1', reason: 'weak_key' })
      report({ type: 'jwks_key_skipped', uri: JWKS, kid: undefined, reason: 'private_key' })
      report({ type: 'jwks_fetched', uri: JWKS, keys: 1, maxAge: 600 })
    }
    expect(warnings).toEqual([
      {
        code: 'CCFLOW_GUARD_JWKS_KEY_SKIPPED',
        message: `requireToken: the JWKS at ${JWKS} has a key with kid "k1" that cannot be used (weak_key); tokens signed with it are refused as unknown_kid`,
      },
      {
        code: 'CCFLOW_GUARD_JWKS_KEY_SKIPPED',
        message: expect.stringContaining(
          'has a key without kid that cannot be used (private_key)',
        ) as unknown,
      },
    ])
  })

  it('warns once per distinct audience mismatch with both values when mismatches are on', () => {
    const report = defaultReport('requireToken', '', true)
    const rejected = {
      type: 'token_rejected',
      reason: 'wrong_audience',
      mismatch: { claim: 'aud', expected: ['https://api.example.com'], actual: 'reports-api' },
    } as const
    report(rejected)
    report(rejected)
    report({ ...rejected, mismatch: { ...rejected.mismatch, actual: ['a', 'b'] } })
    expect(warnings).toEqual([
      {
        code: 'CCFLOW_GUARD_TOKEN_MISMATCH',
        message:
          'requireToken: refused a token (401 invalid_token, wrong_audience): its aud is ' +
          '"reports-api", but option "audience" is "https://api.example.com" (logged once ' +
          'per value outside production; the response names no value)',
      },
      {
        code: 'CCFLOW_GUARD_TOKEN_MISMATCH',
        message: expect.stringContaining(
          'its aud is ["a","b"], but option "audience" is',
        ) as unknown,
      },
    ])
  })

  it('names an issuer that differs only in a trailing slash, and lists several accepted ones', () => {
    const report = defaultReport('requireToken', '', true)
    report({
      type: 'token_rejected',
      reason: 'wrong_issuer',
      mismatch: { claim: 'iss', expected: ['https://a.example'], actual: 'https://a.example/' },
    })
    report({
      type: 'token_rejected',
      reason: 'wrong_issuer',
      mismatch: { claim: 'iss', expected: ['https://a', 'https://b'], actual: 'https://c' },
    })
    expect(warnings.map((w) => w.message)).toEqual([
      expect.stringContaining(
        'its iss is "https://a.example/", but option "issuer" is "https://a.example" (they differ only in a trailing "/")',
      ),
      expect.stringContaining(
        'its iss is "https://c", but option "issuer" is ["https://a","https://b"] (logged',
      ),
    ])
  })

  it('writes no mismatch line when mismatches are off (production) or the event has none', () => {
    defaultReport(
      'requireToken',
      '',
      false,
    )({
      type: 'token_rejected',
      reason: 'wrong_audience',
      mismatch: { claim: 'aud', expected: ['x'], actual: 'y' },
    })
    defaultReport('requireToken', '', true)({ type: 'token_rejected', reason: 'token_expired' })
    expect(warnings).toEqual([])
  })

  it('quotes a hostile claim value, so it cannot forge a log line', () => {
    defaultReport(
      'requireToken',
      '',
      true,
    )({
      type: 'token_rejected',
      reason: 'wrong_audience',
      mismatch: { claim: 'aud', expected: ['x'], actual: 'y\n(node:1) Warning: forged' },
    })
    expect(warnings[0]?.message).not.toContain('\n')
    expect(warnings[0]?.message).toContain('"y\\n(node:1) Warning: forged"')
  })
})

describe('differenceHint', () => {
  it.each([
    ['http://localhost:3000', 'http://localhost:3000/', ' (they differ only in a trailing "/")'],
    [
      'http://localhost:3000',
      'http://127.0.0.1:3000',
      ' (the hosts differ: "localhost" and "127.0.0.1")',
    ],
    [
      'http://localhost:3000',
      'http://localhost:4000',
      ' (the hosts differ: "localhost:3000" and "localhost:4000")',
    ],
    ['https://a.example', 'http://a.example', ''],
    ['https://a.example/x', 'https://b.example/y', ''],
    ['not a url', 'https://a.example', ''],
  ])('explains %s against %s as %j', (expected, actual, hint) => {
    expect(differenceHint(expected, actual)).toBe(hint)
  })
})
