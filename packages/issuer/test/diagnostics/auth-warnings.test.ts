import { forgetWarnings } from '@ccflow/core'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { warnAuthenticationFailure } from '../../src/diagnostics/auth-warnings.js'
import { captureWarnings, type CapturedWarning } from '../../../core/test/warnings.js'

let warnings: CapturedWarning[]

beforeEach(() => {
  warnings = captureWarnings()
})

afterEach(() => {
  forgetWarnings('')
  vi.restoreAllMocks()
})

const noPepper = { where: 'tokenEndpoint', hasPepper: false }

describe('warnAuthenticationFailure', () => {
  it('says a wrong secret may come from a pepper the endpoint lacks, once per client', () => {
    const event = {
      type: 'authentication_failed',
      reason: 'wrong_secret',
      clientId: 'billing',
      method: 'client_secret_basic',
      ip: '127.0.0.1',
    } as const
    warnAuthenticationFailure(event, noPepper)
    warnAuthenticationFailure(event, noPepper)
    expect(warnings).toEqual([
      {
        code: 'CCFLOW_ISSUER_CLIENT_AUTH',
        message:
          'tokenEndpoint: refused client "billing" with client_secret_basic (401 invalid_client, ' +
          'wrong_secret): the secret does not match the stored hash (or names a secret id the ' +
          'client does not have); this endpoint has no secretPepper, so a hash made with one ' +
          'never matches: start it with the pepper the hash was made with ' +
          '(hashClientSecret(secret, { pepper }), CCFLOW_SECRET_PEPPER for `ccflow`) (logged ' +
          'once per client and reason outside production; the response says only invalid_client)',
      },
    ])
  })

  it('says a wrong secret may be a hash made without the pepper the endpoint has', () => {
    warnAuthenticationFailure(
      { type: 'authentication_failed', reason: 'wrong_secret', clientId: 'billing', ip: undefined },
      { where: 'clientSecretBasicStrategy', hasPepper: true },
    )
    expect(warnings[0]?.message).toMatch(
      /^clientSecretBasicStrategy: refused client "billing" \(401 invalid_client, wrong_secret\): .*this endpoint has a secretPepper, so a hash made without it, or with another one, never matches/,
    )
  })

  it.each([
    ['unknown_client', 'the client store has no client with this id'],
    ['expired_secret', 'the secret has expired (its expires_at is past)'],
    ['disabled_client', 'the client record is disabled'],
    ['auth_method_not_allowed', "the method used is not the record's token_endpoint_auth_method"],
  ] as const)('explains %s', (reason, why) => {
    warnAuthenticationFailure(
      { type: 'authentication_failed', reason, clientId: 'c', ip: undefined },
      noPepper,
    )
    expect(warnings[0]?.message).toContain(`(401 invalid_client, ${reason}): ${why} (logged`)
  })

  it('names the reason alone where it has nothing to add, and a request without a client id', () => {
    warnAuthenticationFailure(
      { type: 'authentication_failed', reason: 'assertion_expired', clientId: 'k', ip: undefined },
      noPepper,
    )
    warnAuthenticationFailure(
      { type: 'authentication_failed', reason: 'no_credentials', ip: undefined },
      noPepper,
    )
    expect(warnings.map((w) => w.message)).toEqual([
      'tokenEndpoint: refused client "k" (401 invalid_client, assertion_expired) (logged once per client and reason outside production; the response says only invalid_client)',
      'tokenEndpoint: refused a client (401 invalid_client, no_credentials): the request carried no client credentials (logged once per client and reason outside production; the response says only invalid_client)',
    ])
  })

  it('quotes a hostile client id, so it cannot forge a log line', () => {
    warnAuthenticationFailure(
      { type: 'authentication_failed', reason: 'unknown_client', clientId: 'x\ny', ip: undefined },
      noPepper,
    )
    expect(warnings[0]?.message).toContain('refused client "x\\ny"')
  })
})
