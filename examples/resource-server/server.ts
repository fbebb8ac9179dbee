/**
 * Runs the resource server: `tsx examples/resource-server/server.ts`
 * (root: `pnpm start:resource-server`). Configuration comes from the environment.
 */
import { closeOnSignal, fail, listen } from '../shared/serve.js'
import { createResourceServerApp } from './app.js'
import { loadResourceServerConfig } from './config.js'

const PROGRAM = 'resource-server'

try {
  const config = loadResourceServerConfig(process.env)
  const served = await listen(config.host, config.port, () => createResourceServerApp(config))
  console.log(`resource server listening on ${served.url}`)
  console.log(`accepting tokens from ${config.issuer} for audience ${config.audience}`)
  closeOnSignal(PROGRAM, served)
} catch (err) {
  fail(PROGRAM, err)
}
