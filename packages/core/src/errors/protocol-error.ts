/**
 * The one error model of the ccflow packages: an error that is a complete protocol answer. The
 * issuer's `TokenError` and the guard's `BearerError` implement it, so an app (or a logger) can
 * read either the same way.
 *
 * @typeParam Code The wire codes: the `error` value of the JSON body.
 * @typeParam Reason The stable, machine-readable reasons.
 */
export interface ProtocolError<Code extends string, Reason extends string> extends Error {
  /** The wire code: exactly the `error` value of the JSON body. */
  readonly code: Code
  /** The HTTP status. */
  readonly status: number
  /** Headers that must accompany the answer (`WWW-Authenticate`, `Retry-After`). */
  readonly headers: Readonly<Record<string, string>> | undefined
  /** A stable detail finer than `code`, for logs and metrics. */
  readonly reason: Reason | undefined
  /** The `error_description`: fixed wording, never anything from the request. */
  readonly description: string
  /** The message is safe to send to the client. */
  readonly expose: true
}
