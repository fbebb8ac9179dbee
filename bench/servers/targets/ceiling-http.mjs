// Reference: plain node:http with the same JSON, to show what Express itself costs.
import { Buffer } from 'node:buffer'

export function build({ fixtures }) {
  const body = JSON.stringify(fixtures.body)
  const length = String(Buffer.byteLength(body))
  return (req, res) => {
    if (req.method === 'GET' && req.url === fixtures.route) {
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': length,
      })
      res.end(body)
    } else {
      res.writeHead(404).end()
    }
  }
}
