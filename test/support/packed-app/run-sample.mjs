// Runs one README sample inside the packed-tarball app: `node run-sample.mjs <sample.js>`.
//
// The sample's text stays as written; its network does not:
// - every `listen(port)` binds 127.0.0.1 on a free port instead (so samples can say 3000, and
//   runs never collide), and `fetch` to 127.0.0.1/localhost:<that port> goes to the bound one;
// - `fetch` to an origin named in SAMPLE_HOSTS (`{"https://auth.example.com":"http://127.0.0.1:…"}`)
//   goes to the test's stand-in server; any other non-loopback request fails as if offline.
// When the module has been evaluated and every server listens, one JSON line goes to fd 3:
// `{"ready":{"3000":41234}}`. A sample that starts no server simply exits.
import { writeSync } from 'node:fs'
import net from 'node:net'
import { pathToFileURL } from 'node:url'

const hosts = JSON.parse(process.env.SAMPLE_HOSTS ?? '{}')
const standIns = new Set(Object.values(hosts).map((origin) => new URL(origin).port))
/** The port a sample asked for → the port bound for it. */
const ports = new Map()
/** The port a sample asked for → a promise of the bind under way (a listen with a host is async). */
const binding = new Map()
let pending = 0
let evaluated = false
let reported = false

function report() {
  if (reported || !evaluated || pending > 0 || ports.size === 0) return
  reported = true
  writeSync(3, `${JSON.stringify({ ready: Object.fromEntries(ports) })}\n`)
}

/** The TCP port a `listen(...)` call asks for, or undefined for a pipe or handle. */
function requestedPort(args) {
  const [first] = args
  if (first === undefined || typeof first === 'function') return 0
  if (typeof first === 'number') return first
  if (typeof first === 'string' && /^\d+$/.test(first)) return Number(first)
  if (typeof first === 'object' && first !== null && !('path' in first) && !('fd' in first)) {
    return Number(first.port ?? 0)
  }
  return undefined
}

const listen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  const requested = requestedPort(args)
  if (requested === undefined) return listen.apply(this, args)
  pending++
  binding.set(
    requested,
    new Promise((resolve) => {
      this.once('listening', resolve)
      this.once('error', resolve)
    }),
  )
  this.once('listening', () => {
    ports.set(requested, this.address().port)
    pending--
    report()
  })
  const callback = args.find((arg) => typeof arg === 'function')
  return callback
    ? listen.call(this, { port: 0, host: '127.0.0.1' }, callback)
    : listen.call(this, { port: 0, host: '127.0.0.1' })
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]'])
const { Request, fetch: realFetch } = globalThis
globalThis.fetch = async (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input))
  if (LOOPBACK.has(url.hostname)) {
    // A server the sample is starting: connect once it is bound, as the real port would allow.
    await binding.get(Number(url.port || (url.protocol === 'https:' ? 443 : 80)))
  }
  const standIn = hosts[url.origin]
  if (standIn !== undefined) {
    const target = new URL(standIn)
    url.protocol = target.protocol
    url.host = target.host
  } else if (LOOPBACK.has(url.hostname)) {
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80))
    if (ports.has(port)) {
      url.hostname = '127.0.0.1'
      url.port = String(ports.get(port))
    } else if (!standIns.has(url.port)) {
      throw new TypeError('fetch failed', {
        cause: new Error(`connect ECONNREFUSED ${url.host}: the sample listens on no such port`),
      })
    }
  } else {
    throw new TypeError('fetch failed', {
      cause: new Error(`getaddrinfo ENOTFOUND ${url.hostname}: the sample runs offline`),
    })
  }
  return input instanceof Request ? realFetch(new Request(url, input), init) : realFetch(url, init)
}

await import(pathToFileURL(process.argv[2]).href)
evaluated = true
report()
