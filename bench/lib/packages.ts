// The ccflow targets load the built packages (dist), as a user's app would. A missing or stale
// build would measure the wrong code, so the harness says so before it starts.
import { existsSync, readdirSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

const require = createRequire(import.meta.url)

function newest(dir: string): number {
  let latest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    const time = entry.isDirectory() ? newest(path) : statSync(path).mtimeMs
    if (time > latest) latest = time
  }
  return latest
}

/** Problems with the builds of @ccflow/client, guard and issuer; empty when all are usable. */
export function packageProblems(): { fatal: string[]; warnings: string[] } {
  const fatal: string[] = []
  const warnings: string[] = []
  for (const name of ['@ccflow/client', '@ccflow/guard', '@ccflow/issuer']) {
    const root = dirname(require.resolve(`${name}/package.json`))
    const entry = join(root, 'dist', 'esm', 'index.js')
    if (!existsSync(entry)) {
      fatal.push(`${name} is not built (${entry} is missing)`)
      continue
    }
    const src = join(root, 'src')
    if (existsSync(src) && newest(src) > statSync(entry).mtimeMs) {
      warnings.push(`${name}: src/ is newer than dist/, the benchmark measures the old build`)
    }
  }
  return { fatal, warnings }
}
