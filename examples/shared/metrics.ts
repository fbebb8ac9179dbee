/**
 * The metrics listener of the example servers (`METRICS_PORT`): `GET /metrics` in the Prometheus
 * text format, with Node.js process metrics, on its own port and never on the public one.
 */
import { collectDefaultMetrics, Registry } from 'prom-client'
import { listen, type Served } from './serve.js'

/**
 * Registers the process metrics and whatever `register` adds (the issuer's or the guard's
 * metrics) on a fresh registry, then serves it at `http://host:port/metrics`.
 */
export async function serveMetrics(
  host: string,
  port: number,
  register: (registry: Registry) => void,
): Promise<Served> {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  register(registry)
  return listen(
    host,
    port,
    () => (req, res) => {
      const path = (req.url ?? '/').split('?')[0]
      if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
        return
      }
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType })
          res.end(req.method === 'HEAD' ? undefined : text)
        },
        () => {
          res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n')
        },
      )
    },
    // Scrapes are not logged: one line every few seconds would drown the request log.
    undefined,
  )
}
