import type { IncomingMessage } from 'node:http'
import passportStrategy from 'passport-strategy'

/**
 * The instance side of passport-strategy's `Strategy`: what a strategy implements
 * (`authenticate`) and the actions passport gives it for one request.
 *
 * Declared here instead of being taken from `@types/passport-strategy`, because that package
 * depends on `@types/passport`, whose global augmentation adds `req.user`, `req.login()` and
 * `req.isAuthenticated()` to every Express `Request` of an app that installs it, whether or not
 * the app uses passport. Our public `.d.ts` must not name it (test/consumer-types.test.ts proves it).
 * The shape is structurally what `passport.use()` accepts; an Express strategy narrows `req` to
 * Express's `Request` (a subtype of `IncomingMessage`).
 */
export interface PassportStrategy {
  /** Called by passport for each request. */
  authenticate(req: IncomingMessage, options?: unknown): void
  /** Authenticates `user`, with optional `info`. */
  success(user: unknown, info?: unknown): void
  /** Fails with an optional challenge (a `WWW-Authenticate` value) and status (default 401). */
  fail(challenge?: unknown, status?: number): void
  /** Redirects to `url` (default status 302). */
  redirect(url: string, status?: number): void
  /** Makes no decision: the next strategy runs. */
  pass(): void
  /** Reports an internal error to the app's error handler. */
  error(err: Error): void
}

/** passport-strategy's `Strategy` constructor, typed with {@link PassportStrategy}. */
export const Strategy: abstract new () => PassportStrategy = passportStrategy.Strategy
