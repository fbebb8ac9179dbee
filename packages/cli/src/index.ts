/**
 * `@ccflow/cli`: the `ccflow` operator command (`secret`, `hash`, `keygen`, `assertion`,
 * `token`). Its own package, so that applications that only mount `@ccflow/issuer` never install
 * a CLI framework.
 * {@link runCli} runs it in-process, with injected streams (for tests and wrappers).
 *
 * @module
 */

export { runCli } from './cli.js'
export type { CliIo } from './cli.js'
