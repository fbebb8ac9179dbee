import { describe, expect, it } from 'vitest'
import { validateClient } from '@ccflow/issuer'
import {
  clientListText,
  clientText,
  clientView,
  isoTime,
  jsonText,
  printable,
} from '../src/client-view.js'

const HASH = `$hmac-sha256$${'A'.repeat(43)}`

const billing = validateClient({
  client_id: 'billing',
  client_name: 'Billing\u001b[31m',
  scope: 'invoices:read invoices:write',
  default_scope: 'invoices:read',
  audiences: ['https://api.example.com', 'https://files.example.com'],
  default_audience: 'https://files.example.com',
  access_token_ttl: 300,
  introspection: true,
  grant_types: ['client_credentials'],
  disabled: true,
  secrets: [
    { id: 'k1', hash: HASH },
    { id: 'k2', hash: HASH, expires_at: 1_803_859_200 },
  ],
})

const keyClient = {
  client_id: 'signer',
  scope: 'a',
  audiences: ['https://api.example.com'],
  token_endpoint_auth_method: 'private_key_jwt' as const,
  jwks: { keys: [{ kty: 'EC', kid: 'k' }, { kty: 'EC' }] },
  token_endpoint_auth_signing_alg: 'ES256',
  max_assertion_lifetime: 60,
}

describe('clientView', () => {
  it('keeps every field but the secrets hashes', () => {
    const view = clientView(billing)
    expect(view.secrets).toEqual([{ id: 'k1' }, { id: 'k2', expires_at: 1_803_859_200 }])
    expect(JSON.stringify(view)).not.toContain('hmac-sha256')
    expect(view).toMatchObject({ client_id: 'billing', access_token_ttl: 300, disabled: true })
  })

  it('leaves a client without secrets without a secrets field', () => {
    expect(clientView(keyClient)).not.toHaveProperty('secrets')
  })
})

describe('clientText', () => {
  it('prints one line per field, the secrets with their expiry, never a hash', () => {
    const text = clientText(billing)
    expect(text).toContain('client_name                 Billing\\u001b[31m\n')
    expect(text).toMatch(/^state +disabled$/m)
    expect(text).toMatch(/^token_endpoint_auth_method +client_secret_basic or client_secret_post$/m)
    expect(text).toMatch(/^audiences +https:\/\/api\.example\.com https:\/\/files\.example\.com$/m)
    expect(text).toMatch(/^access_token_ttl +300 s$/m)
    expect(text).toMatch(/^introspection +allowed$/m)
    expect(text).toMatch(/^secret +k1$/m)
    expect(text).toMatch(/^secret +k2 {2}expires 2027-03-01T00:00:00Z$/m)
    expect(text).not.toContain('hmac')
  })

  it('prints the keys of a private_key_jwt client', () => {
    const text = clientText(keyClient)
    expect(text).toMatch(/^state +enabled$/m)
    expect(text).toMatch(/^jwks +2 key\(s\): k \(no kid\)$/m)
    expect(text).toMatch(/^token_endpoint_auth_signing_alg +ES256$/m)
    expect(text).toMatch(/^max_assertion_lifetime +60 s$/m)
    expect(
      clientText({ ...keyClient, jwks: undefined, jwks_uri: 'https://c.example/jwks' }),
    ).toMatch(/^jwks_uri +https:\/\/c\.example\/jwks$/m)
  })
})

describe('clientListText', () => {
  it('prints a header and one aligned line per client', () => {
    expect(clientListText([billing, keyClient])).toBe(
      'CLIENT_ID  STATE     AUTH             SCOPE\n' +
        'billing    disabled  2 secret(s)      invoices:read invoices:write\n' +
        'signer     enabled   private_key_jwt  a\n',
    )
  })

  it('says so when there is no client', () => {
    expect(clientListText([])).toBe('no clients\n')
  })
})

describe('printable', () => {
  it('writes control characters as \\uXXXX escapes', () => {
    expect(printable('a\nb\u009b')).toBe('a\\u000ab\\u009b')
  })
})

describe('isoTime', () => {
  it('prints epoch seconds as ISO 8601 UTC without milliseconds', () => {
    expect(isoTime(0)).toBe('1970-01-01T00:00:00Z')
  })
})

describe('jsonText', () => {
  it('prints indented JSON and a newline', () => {
    expect(jsonText({ a: 1 })).toBe('{\n  "a": 1\n}\n')
  })
})
