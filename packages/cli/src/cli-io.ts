/** Where the CLI reads and writes; injected so tests need no real terminal. */
export interface CliIo {
  /** Standard input, read whole when a command needs a secret. */
  stdin: AsyncIterable<string | Buffer>
  stdout: { write(text: string): unknown }
  stderr: { write(text: string): unknown }
  /**
   * The environment: `CCFLOW_CLIENT_SECRET`, `CCFLOW_SECRET_PEPPER`, `DATABASE_URL` and `USER` (the
   * actor of the audit trail) are read from here.
   */
  env: Readonly<Record<string, string | undefined>>
}
