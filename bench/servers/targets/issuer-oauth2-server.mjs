// Peer: @node-oauth/oauth2-server (client_credentials grant) with a model that signs JWTs with
// jsonwebtoken and keeps nothing, mounted on an Express route the way its README shows.
import { randomUUID } from 'node:crypto'
import OAuth2Server from '@node-oauth/oauth2-server'
import express from 'express'
import jwt from 'jsonwebtoken'
import { keyPair, secretChecker } from '../common.mjs'

export function build({ fixtures, options }) {
  const { privateKey, kid } = keyPair(fixtures, options.alg)
  const checkSecret = secretChecker(fixtures)
  const allowed = fixtures.clientScope.split(' ')

  const model = {
    getClient(clientId, clientSecret) {
      if (!checkSecret(clientId, clientSecret)) return null
      return { id: clientId, grants: ['client_credentials'] }
    },
    getUserFromClient(client) {
      return { id: client.id }
    },
    validateScope(user, client, scope) {
      const requested = scope ?? allowed
      return requested.every((s) => allowed.includes(s)) ? requested : false
    },
    generateAccessToken(client, user, scope) {
      return jwt.sign({ client_id: client.id, scope: scope.join(' ') }, privateKey, {
        algorithm: options.alg,
        keyid: kid,
        header: { typ: 'at+jwt' },
        issuer: fixtures.issuer,
        audience: fixtures.audience,
        subject: client.id,
        expiresIn: fixtures.tokenTtl,
        jwtid: randomUUID(),
      })
    },
    saveToken(token, client, user) {
      return { ...token, client, user }
    },
  }
  const oauth = new OAuth2Server({ model, accessTokenLifetime: fixtures.tokenTtl })

  const app = express()
  app.post(fixtures.tokenPath, express.urlencoded({ extended: false }), async (req, res) => {
    const request = new OAuth2Server.Request(req)
    const response = new OAuth2Server.Response(res)
    try {
      await oauth.token(request, response)
      res.set(response.headers).status(response.status).json(response.body)
    } catch (err) {
      res
        .set(response.headers)
        .status(typeof err.code === 'number' ? err.code : 500)
        .json(response.body ?? { error: 'server_error' })
    }
  })
  return app
}
