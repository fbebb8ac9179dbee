/**
 * Runs the existing-app example: `tsx examples/existing-app/server.ts` (PORT default 4002).
 * It makes a demo client and an ephemeral signing key at start and prints the client's secret.
 */
import { generateClientSecret, generateSigningKey, hashClientSecret } from '@ccflow/issuer'
import * as env from '../shared/env.js'
import { createLogger, logLevel } from '../shared/log.js'
import { closeOnSignal, fail, listen } from '../shared/serve.js'
import { API_AUDIENCE, createExistingApp } from './app.js'

const PROGRAM = 'existing-app'

try {
  const logger = createLogger(PROGRAM, { level: logLevel(process.env) })
  const { secretId, secret } = generateClientSecret()
  const client = {
    client_id: 'reporter',
    scope: 'reports:read',
    audiences: [API_AUDIENCE],
    secrets: [{ id: secretId, hash: await hashClientSecret(secret) }],
  }
  const signingKey = generateSigningKey('ES256')
  const served = await listen(
    env.host(process.env),
    env.port(process.env, 4002),
    (origin) => createExistingApp({ origin, clients: [client], signingKey }),
    logger,
  )
  logger.info({ url: served.url }, `existing app listening on ${served.url}`)
  // A demo secret for a human, printed once and never logged.
  console.log(`client reporter, secret ${secret} (shown once; ephemeral)`)
  closeOnSignal(logger, [served])
} catch (err) {
  fail(PROGRAM, err)
}
