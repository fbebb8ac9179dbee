// Peer: oidc-provider with the client_credentials grant and JWT access tokens for one resource
// (features.resourceIndicators, accessTokenFormat 'jwt'). It runs standalone on its own Koa
// callback, its fastest and most common deployment.
import Provider from 'oidc-provider'
import { keyPair } from '../common.mjs'

export function build({ fixtures, options }) {
  const { privateJwk, kid } = keyPair(fixtures, options.alg)
  const resourceServer = {
    scope: fixtures.clientScope,
    audience: fixtures.audience,
    accessTokenFormat: 'jwt',
    accessTokenTTL: fixtures.tokenTtl,
    jwt: { sign: { alg: options.alg } },
  }
  const provider = new Provider(fixtures.issuer, {
    clients: [
      {
        client_id: fixtures.client.id,
        client_secret: fixtures.client.secret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: fixtures.clientScope,
      },
    ],
    jwks: { keys: [{ ...privateJwk, kid, alg: options.alg, use: 'sig' }] },
    scopes: fixtures.clientScope.split(' '),
    routes: { token: fixtures.tokenPath },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => fixtures.audience,
        useGrantedResource: () => true,
        getResourceServerInfo: () => resourceServer,
      },
    },
    ttl: { ClientCredentials: fixtures.tokenTtl },
  })
  return provider.callback()
}
