import { describe, expect, it } from 'vitest'
import { parseDiscoveryIssuer, wellKnownUrls } from '../../src/keys/discovery.js'

describe('wellKnownUrls', () => {
  it.each([
    [
      'https://auth.example.com',
      [
        'https://auth.example.com/.well-known/oauth-authorization-server',
        'https://auth.example.com/.well-known/openid-configuration',
      ],
    ],
    [
      'https://auth.example.com/',
      [
        'https://auth.example.com/.well-known/oauth-authorization-server',
        'https://auth.example.com/.well-known/openid-configuration',
      ],
    ],
    [
      'https://auth.example.com/tenant/a',
      [
        'https://auth.example.com/.well-known/oauth-authorization-server/tenant/a',
        'https://auth.example.com/tenant/a/.well-known/oauth-authorization-server',
        'https://auth.example.com/tenant/a/.well-known/openid-configuration',
      ],
    ],
    [
      'https://auth.example.com/realms/demo/',
      [
        'https://auth.example.com/.well-known/oauth-authorization-server/realms/demo',
        'https://auth.example.com/realms/demo/.well-known/oauth-authorization-server',
        'https://auth.example.com/realms/demo/.well-known/openid-configuration',
      ],
    ],
  ])('builds the RFC 8414 inserted, appended and OpenID URLs for %s', (issuer, expected) => {
    expect(wellKnownUrls(new URL(issuer)).map((url) => url.href)).toEqual(expected)
  })
})

describe('parseDiscoveryIssuer', () => {
  const at = { where: 'f', path: 'issuer' }

  it('refuses an issuer with a query (RFC 8414 §2)', () => {
    expect(() => parseDiscoveryIssuer('https://auth.example.com/?tenant=a', at)).toThrow(
      /^f: option "issuer" must not contain a query/,
    )
  })

  it('refuses an http issuer on a public host', () => {
    expect(() => parseDiscoveryIssuer('http://auth.example.com', at)).toThrow(
      /^f: option "issuer" must use https/,
    )
  })
})
