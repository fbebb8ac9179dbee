/**
 * `GET /health` (liveness) and `GET /ready` (readiness) of the example servers, for load
 * balancers and orchestrators. Neither needs a token, and neither says more than a fixed word
 * per failed check.
 */
import { Router } from 'express'

/**
 * One readiness check: resolves `undefined` when fine, else the stable reason it is not
 * (`redis_unreachable`, …). A check that throws counts as its `name` failing.
 */
export interface ReadinessCheck {
  /** Reported when the check throws: `<name>_check_failed`. */
  name: string
  check(): Promise<string | undefined> | string | undefined
}

/**
 * Answers `GET /health` with 200 `{"status":"ok"}` while the process serves requests, and
 * `GET /ready` with 200 `{"status":"ready"}` when every check passes, else 503
 * `{"status":"not_ready","reasons":[…]}`. Both are `Cache-Control: no-store`.
 */
export function healthRoutes(checks: readonly ReadinessCheck[]): Router {
  const router = Router()
  router.get('/health', (_req, res) => {
    res.set('cache-control', 'no-store').json({ status: 'ok' })
  })
  router.get('/ready', (_req, res, next) => {
    readiness(checks).then((reasons) => {
      res.set('cache-control', 'no-store')
      if (reasons.length === 0) res.json({ status: 'ready' })
      else res.status(503).json({ status: 'not_ready', reasons })
    }, next)
  })
  return router
}

/** The reasons the server is not ready, every check run at once; empty when ready. */
async function readiness(checks: readonly ReadinessCheck[]): Promise<string[]> {
  const results = await Promise.all(
    checks.map(async (readinessCheck) => {
      try {
        return await readinessCheck.check()
      } catch {
        return `${readinessCheck.name}_check_failed`
      }
    }),
  )
  return results.filter((reason) => reason !== undefined)
}
