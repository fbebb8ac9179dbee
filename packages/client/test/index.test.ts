import { describe, expect, expectTypeOf, it } from 'vitest'
import * as client from '../src/index.js'
import type {
  AccessToken,
  TokenClient,
  TokenClientEvent,
  TokenClientOptions,
} from '../src/index.js'

describe('@ccflow/client', () => {
  it('exports the factory, the errors and the channel names', () => {
    expect(Object.keys(client).sort()).toEqual([
      'CLIENT_CHANNELS',
      'DEFAULT_TOKEN_PREFIX',
      'OAuthError',
      'ThrottledError',
      'TokenClientError',
      'TransportError',
      'attachTokenClient',
      'createTokenClient',
      'isTokenClientError',
      'redisTokenStore',
    ])
  })

  it('types the contract of issue 13', () => {
    expectTypeOf(client.createTokenClient).parameter(0).toEqualTypeOf<TokenClientOptions>()
    expectTypeOf(client.createTokenClient).returns.toEqualTypeOf<TokenClient>()
    expectTypeOf<TokenClient['getToken']>().returns.resolves.toEqualTypeOf<AccessToken>()
    expectTypeOf<AccessToken>().toHaveProperty('value').toEqualTypeOf<string>()
    expectTypeOf<AccessToken['source']>().toEqualTypeOf<
      'cache' | 'network' | 'coalesced' | 'store'
    >()
    expectTypeOf<TokenClientEvent['type']>().toEqualTypeOf<
      'acquired' | 'refresh_started' | 'retry' | 'throttled' | 'failed' | 'store_error'
    >()
    expectTypeOf<TokenClientOptions['scope']>().toEqualTypeOf<
      string | readonly string[] | undefined
    >()
  })
})
