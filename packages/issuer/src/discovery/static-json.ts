import { createHash } from 'node:crypto'
import type { RequestHandler } from 'express'
import { JSON_TYPE } from '../http/respond.js'

/**
 * A GET handler for a document serialized once at creation, with an ETag and
 * `Cache-Control: public, max-age` so that verifiers and caches can keep it.
 *
 * @internal
 */
export function staticJsonHandler(document: unknown, maxAge: number): RequestHandler {
  const body = Buffer.from(JSON.stringify(document))
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`
  const cacheControl = `public, max-age=${maxAge}`
  return (req, res) => {
    res.setHeader('Cache-Control', cacheControl)
    res.setHeader('ETag', etag)
    const match = req.headers['if-none-match']
    if (
      match !== undefined &&
      match.split(',').some((tag) => tag.trim() === etag || tag.trim() === '*')
    ) {
      res.statusCode = 304
      res.end()
      return
    }
    res.statusCode = 200
    res.setHeader('Content-Type', JSON_TYPE)
    res.setHeader('Content-Length', body.length)
    res.end(body)
  }
}
