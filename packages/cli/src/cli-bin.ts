#!/usr/bin/env node
import { runCli } from './cli.js'

runCli(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
}).then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    process.stderr.write(`ccflow: ${err instanceof Error ? err.message : 'unexpected failure'}\n`)
    process.exitCode = 1
  },
)
