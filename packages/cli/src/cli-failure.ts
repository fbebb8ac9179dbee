/** A failure the user can fix: `runCli` prints its message as one line and exits 1. */
export class CliFailure extends Error {
  override readonly name = 'CliFailure'
}
