// Child process entry of one benchmark target: `node serve.mjs <target> [options-json]`.
// It starts a sibling JWKS server (public keys from the fixtures), builds the target, listens on
// 127.0.0.1:0 and prints `BENCH_READY {"port":…}`. It exits when its stdin closes, so a
// harness that dies without cleaning up never leaves a server behind.
import { Buffer } from 'node:buffer'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import process from 'node:process'

const [name = '', optionsJson = '{}'] = process.argv.slice(2)
if (!/^[a-z0-9-]+$/.test(name)) {
  console.error(`serve.mjs: bad target name ${JSON.stringify(name)}`)
  process.exit(2)
}
const fixturesPath = process.env.BENCH_FIXTURES
if (!fixturesPath) {
  console.error('serve.mjs: BENCH_FIXTURES is not set')
  process.exit(2)
}
const fixtures = JSON.parse(readFileSync(fixturesPath, 'utf8'))
const options = JSON.parse(optionsJson)

// Node inspects the call stack of each of the first 10,000 `Buffer()` calls a dependency makes
// (passport-http decodes every Basic header with `new Buffer`, for ccflow and for the oauth2orize
// peers alike): about 8 µs per call here, a start-up cost that a long-running server is past
// within seconds but that a short warm-up would count. One call from outside node_modules ends
// the check for the whole process (Node then considers its DEP0005 warning shown); the warning
// itself is silenced.
const deprecationsSilenced = process.noDeprecation
process.noDeprecation = true
Buffer(0)
process.noDeprecation = deprecationsSilenced

process.stdin.on('close', () => process.exit(0))
process.stdin.resume()
process.on('SIGTERM', () => process.exit(0))

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve(server.address().port))
  })
}

// The JWKS "issuer" next to the API, as in a real deployment: peers and ccflow fetch it once and
// cache it, so it takes no part in the measured requests.
const jwksBody = JSON.stringify({
  keys: Object.values(fixtures.keys).map((key) => key.publicJwk),
})
const jwksServer = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/jwks.json') {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=600' })
    res.end(jwksBody)
  } else {
    res.writeHead(404).end()
  }
})
const jwksPort = await listen(jwksServer)
const jwksUri = `http://127.0.0.1:${jwksPort}/jwks.json`

const target = await import(`./targets/${name}.mjs`)
const handler = await target.build({ fixtures, options, jwksUri })
const server = createServer(handler)
const port = await listen(server)
process.stdout.write(`BENCH_READY ${JSON.stringify({ port, jwksPort })}\n`)
