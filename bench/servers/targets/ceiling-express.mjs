// Ceiling: the bare Express route, the best any Express middleware can do. With
// `middleware: 'bearer-floor'`, one middleware in front that does the least any bearer guard does: read the
// Authorization header, set req.auth (a constant) and hand on, so that a guard's ratio can be
// read against the floor that Express itself sets for one more layer.
import express from 'express'
import { routeHandler } from '../common.mjs'

const AUTH = Object.freeze({ clientId: 'bench', scopes: Object.freeze(['read:orders']) })

function bearerFloor(req, res, next) {
  // Read, not judged: the harness's ceiling check sends no header and expects its 200.
  req.auth = typeof req.headers.authorization === 'string' ? AUTH : undefined
  next()
}

export function build({ fixtures, options }) {
  const app = express()
  if (options.middleware === 'bearer-floor')
    app.get(fixtures.route, bearerFloor, routeHandler(fixtures))
  else app.get(fixtures.route, routeHandler(fixtures))
  return app
}
