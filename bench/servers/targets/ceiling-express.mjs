// Ceiling: the bare Express route, the best any Express middleware can do.
import express from 'express'
import { routeHandler } from '../common.mjs'

export function build({ fixtures }) {
  const app = express()
  app.get(fixtures.route, routeHandler(fixtures))
  return app
}
