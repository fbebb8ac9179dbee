import { afterEach, describe, expect, it, vi } from 'vitest'
import { staticClientStore } from '../../src/clients/client-store.js'
import { verifyClientCredentials } from '../../src/clients/verify-client.js'
import * as secretsModule from '../../src/clients/secrets.js'
import { clientStore, secrets } from '../helpers.js'

vi.mock('../../src/clients/secrets.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/clients/secrets.js')>()
  return { ...original, verifyClientSecret: vi.fn(original.verifyClientSecret) }
})

afterEach(() => {
  vi.mocked(secretsModule.verifyClientSecret).mockClear()
})

describe('verifyClientCredentials', () => {
  const config = { clients: clientStore, secretPepper: undefined }

  it('accepts the current and the next secret of a rotating client', async () => {
    for (const { secret } of [secrets.reporter, secrets.reporterNext]) {
      const result = await verifyClientCredentials(
        config,
        'reporter',
        secret,
        'client_secret_basic',
      )
      expect(result).toMatchObject({ ok: true, client: { client_id: 'reporter' } })
    }
  })

  it.each<[string, string, string, 'client_secret_basic' | 'client_secret_post', string]>([
    [
      'an unknown client',
      'nobody',
      secrets.reporter.secret,
      'client_secret_basic',
      'unknown_client',
    ],
    ['a wrong secret', 'reporter', 'not-the-secret', 'client_secret_basic', 'wrong_secret'],
    [
      "another client's secret",
      'reporter',
      secrets.basicOnly.secret,
      'client_secret_basic',
      'wrong_secret',
    ],
    [
      'an expired secret',
      'reporter',
      secrets.reporterOld.secret,
      'client_secret_basic',
      'expired_secret',
    ],
    [
      'a disabled client',
      'disabled',
      secrets.disabled.secret,
      'client_secret_basic',
      'disabled_client',
    ],
    [
      'a method the client may not use',
      'basic-only',
      secrets.basicOnly.secret,
      'client_secret_post',
      'auth_method_not_allowed',
    ],
  ])('refuses %s with its precise reason', async (_label, clientId, secret, method, reason) => {
    expect(await verifyClientCredentials(config, clientId, secret, method)).toEqual({
      ok: false,
      reason,
    })
  })

  it('checks the unmatchable hash for an unknown client and for an unknown secret id', async () => {
    await verifyClientCredentials(config, 'nobody', 'whatever', 'client_secret_basic')
    const unknownId = secretsModule.generateClientSecret({ secretId: 'nope' }).secret
    await verifyClientCredentials(config, 'reporter', unknownId, 'client_secret_basic')
    const hashes = vi.mocked(secretsModule.verifyClientSecret).mock.calls.map((call) => call[1])
    expect(hashes).toEqual([
      secretsModule.UNMATCHABLE_SECRET_HASH,
      secretsModule.UNMATCHABLE_SECRET_HASH,
    ])
  })

  it('checks an imported (unprefixed) secret against the stored scrypt hash', async () => {
    const ok = await verifyClientCredentials(
      config,
      'legacy: importer',
      secrets.imported.secret,
      'client_secret_post',
    )
    expect(ok).toMatchObject({ ok: true })
  })

  it('refuses a record whose client_id differs from the id looked up', async () => {
    const lying = { findClient: () => clientStore.findClient('reporter') }
    const result = await verifyClientCredentials(
      { clients: lying, secretPepper: undefined },
      'someone-else',
      secrets.reporter.secret,
      'client_secret_basic',
    )
    expect(result).toEqual({ ok: false, reason: 'unknown_client' })
  })

  it.each<[string, string, string]>([
    ['an unknown client', 'nobody', secrets.reporter.secret],
    [
      'a wrong secret with a known secret id',
      'reporter',
      `${secrets.reporter.secret.slice(0, -4)}AAAA`,
    ],
    ['a secret id the client does not have', 'reporter', secrets.basicOnly.secret],
    ['an expired secret', 'reporter', secrets.reporterOld.secret],
    ['a disabled client', 'disabled', secrets.disabled.secret],
  ])(
    'does exactly one secret verification for %s (uniform cost, issue 18)',
    async (_name, id, secret) => {
      await verifyClientCredentials(config, id, secret, 'client_secret_basic')
      expect(secretsModule.verifyClientSecret).toHaveBeenCalledTimes(1)
    },
  )

  it('tries each hash of a client with several for an imported (unprefixed) secret', async () => {
    const first = await secretsModule.hashClientSecret('first imported secret', {
      algorithm: 'hmac-sha256',
    })
    const second = await secretsModule.hashClientSecret('second imported secret', {
      algorithm: 'hmac-sha256',
    })
    const clients = staticClientStore([
      {
        client_id: 'imports',
        scope: 'a',
        audiences: ['urn:a'],
        secrets: [
          { id: 'one', hash: first },
          { id: 'two', hash: second },
        ],
      },
    ])
    const store = { clients, secretPepper: undefined }
    const ok = await verifyClientCredentials(
      store,
      'imports',
      'second imported secret',
      'client_secret_post',
    )
    expect(ok).toMatchObject({ ok: true })
    expect(secretsModule.verifyClientSecret).toHaveBeenCalledTimes(2)
    const wrong = await verifyClientCredentials(store, 'imports', 'third', 'client_secret_post')
    expect(wrong).toEqual({ ok: false, reason: 'wrong_secret' })
  })
})
