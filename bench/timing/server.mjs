// The token endpoint the authentication timing check measures: HMAC (generated) secrets, rate
// limits off, a static store holding a normal client, a disabled one and one with an expired
// secret. Prints `{ port, secrets }` as one JSON line on stdout once it listens on 127.0.0.1.
import { generateKeyPairSync } from 'node:crypto'
import express from 'express'
import {
  generateClientSecret,
  hashClientSecret,
  staticClientStore,
  tokenEndpoint,
} from '@ccflow/issuer'

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const record = async (clientId, extra = {}, expiresAt) => {
  const { secretId, secret } = generateClientSecret()
  const hash = await hashClientSecret(secret)
  return {
    secret,
    client: {
      client_id: clientId,
      scope: 'reports:read',
      audiences: ['https://api.example'],
      secrets: [
        { id: secretId, hash, ...(expiresAt === undefined ? {} : { expires_at: expiresAt }) },
      ],
      ...extra,
    },
  }
}
const normal = await record('svc')
const disabled = await record('svc-disabled', { disabled: true })
const expired = await record('svc-expired', {}, 1_000_000_000)
const app = express()
app.use(
  tokenEndpoint({
    issuer: 'http://127.0.0.1',
    keys: [{ kid: 'k', alg: 'ES256', privateKey }],
    clients: staticClientStore([normal.client, disabled.client, expired.client]),
    rateLimit: false,
    // Events on: the production shape; the hook is a no-op.
    onEvent: () => {},
  }),
)
const server = app.listen(0, '127.0.0.1', () => {
  const { port } = server.address()
  process.stdout.write(
    `${JSON.stringify({ port, secrets: { normal: normal.secret, disabled: disabled.secret, expired: expired.secret } })}\n`,
  )
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
