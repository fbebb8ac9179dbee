// Peer: oauth2orize's client_credentials exchange behind passport-http's BasicStrategy, signing
// an RFC 9068-shaped JWT with jsonwebtoken (the classic Express stack), with a KeyObject or
// (`key: 'pem'`) a PEM string.
import { randomUUID } from 'node:crypto'
import express from 'express'
import jwt from 'jsonwebtoken'
import oauth2orize from 'oauth2orize'
import passport from 'passport'
import { BasicStrategy } from 'passport-http'
import { keyPair, secretChecker } from '../common.mjs'

export function build({ fixtures, options }) {
  const pair = keyPair(fixtures, options.alg)
  const { kid } = pair
  // `key: 'pem'` hands jsonwebtoken the PEM string, which it parses on every sign.
  const privateKey = options.key === 'pem' ? pair.privatePem : pair.privateKey
  const checkSecret = secretChecker(fixtures)
  const allowed = fixtures.clientScope.split(' ')

  passport.use(
    new BasicStrategy((clientId, secret, done) => {
      done(null, checkSecret(clientId, secret) ? { id: clientId } : false)
    }),
  )

  const server = oauth2orize.createServer()
  server.exchange(
    oauth2orize.exchange.clientCredentials((client, scope, done) => {
      const granted = scope ?? allowed
      if (!granted.every((s) => allowed.includes(s))) {
        done(new oauth2orize.TokenError('scope not allowed', 'invalid_scope'))
        return
      }
      const token = jwt.sign({ client_id: client.id, scope: granted.join(' ') }, privateKey, {
        algorithm: options.alg,
        keyid: kid,
        header: { typ: 'at+jwt' },
        issuer: fixtures.issuer,
        audience: fixtures.audience,
        subject: client.id,
        expiresIn: fixtures.tokenTtl,
        jwtid: randomUUID(),
      })
      done(null, token, null, { expires_in: fixtures.tokenTtl, scope: granted.join(' ') })
    }),
  )

  const app = express()
  app.post(
    fixtures.tokenPath,
    express.urlencoded({ extended: false }),
    passport.authenticate('basic', { session: false }),
    server.token(),
    server.errorHandler(),
  )
  return app
}
