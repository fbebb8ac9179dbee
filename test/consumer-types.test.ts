import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs'
import { symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ON_EXPRESS_4 } from './helpers.js'
import { ROOT } from './support/processes.js'

const run = promisify(execFile)
const tsc = resolve(ROOT, 'node_modules/typescript/bin/tsc')
const PUBLISHED = ['core', 'issuer', 'guard', 'client', 'cli'] as const

interface Manifest {
  dependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  peerDependenciesMeta?: Record<string, { optional?: boolean }>
}

/** Where `name` resolves from the package in `from`, the way Node looks it up (real paths). */
function locate(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name)
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate)
    if (dirname(dir) === dir) return undefined
  }
}

/**
 * Every `@types/*` package that installing the published packages brings along: the closure of
 * their `dependencies` (and of those packages' dependencies and required peers). npm installs
 * that tree flat, so each of these lands in the app's own `node_modules/@types`, and tsc loads
 * every package there when the app's tsconfig has no `types` list.
 */
function typesInstalledWithPackages(): Map<string, string> {
  const found = new Map<string, string>()
  const seen = new Set<string>()
  const visit = (dir: string, top: boolean): void => {
    if (seen.has(dir)) return
    seen.add(dir)
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest
    const names = Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })
    if (!top) {
      for (const peer of Object.keys(pkg.peerDependencies ?? {})) {
        if (pkg.peerDependenciesMeta?.[peer]?.optional !== true) names.push(peer)
      }
    }
    for (const name of names) {
      const at = locate(name, dir)
      if (at === undefined) continue
      if (name.startsWith('@types/')) found.set(name, at)
      visit(at, false)
    }
  }
  for (const name of PUBLISHED) visit(realpathSync(resolve(ROOT, 'packages', name)), true)
  return found
}

// An app that uses the packages but not passport. Express's Request must not gain passport's
// `user`, `login()` or `isAuthenticated()`; it must gain the guard's own `req.auth`.
const app = `import type { Request } from 'express'
import { tokenEndpoint } from '@ccflow/issuer'
import { BearerJwtStrategy, requireToken, type AuthInfo } from '@ccflow/guard'

export const used: unknown[] = [tokenEndpoint, requireToken, BearerJwtStrategy]

export function read(req: Request): AuthInfo | undefined {
  // @ts-expect-error -- only @types/passport declares req.user
  void req.user
  // @ts-expect-error -- only @types/passport declares req.isAuthenticated()
  void req.isAuthenticated
  // @ts-expect-error -- only @types/passport declares req.login()
  void req.login
  return req.auth
}
`

describe.skipIf(ON_EXPRESS_4)(
  'Express types of an app that installs the packages (e2e-express5 only)',
  () => {
    let dir = ''

    /** Runs tsc in the app; its exit code and output. */
    async function typecheck(): Promise<{ code: number; output: string }> {
      try {
        const { stdout } = await run(process.execPath, [tsc, '-p', dir], { cwd: dir })
        return { code: 0, output: stdout }
      } catch (err) {
        const { code, stdout } = err as { code: number; stdout: string }
        return { code, output: stdout }
      }
    }

    beforeAll(() => {
      // Outside the repository, so that no node_modules/@types of ours is an ancestor of it.
      dir = mkdtempSync(join(tmpdir(), 'ccflow-consumer-'))
      const link = (target: string, name: string): void => {
        mkdirSync(dirname(join(dir, 'node_modules', name)), { recursive: true })
        symlinkSync(target, join(dir, 'node_modules', name), 'dir')
      }
      // The app's own dependencies: the packages, express and its types, Node's types.
      for (const name of PUBLISHED) link(resolve(ROOT, 'packages', name), `@ccflow/${name}`)
      const testDir = resolve(ROOT, 'test')
      for (const name of ['express', '@types/express', '@types/node']) {
        link(locate(name, testDir)!, name)
      }
      // What npm hoists next to them from the packages' dependencies.
      for (const [name, at] of typesInstalledWithPackages()) {
        if (!existsSync(join(dir, 'node_modules', name))) link(at, name)
      }
      // No `types` list: every package in node_modules/@types is loaded.
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            module: 'nodenext',
            moduleResolution: 'nodenext',
            strict: true,
            noEmit: true,
            skipLibCheck: true,
          },
          files: ['app.mts', 'app.cts'],
        }),
      )
      // Both conditions: app.mts reads dist/esm's types, app.cts dist/cjs's.
      writeFileSync(join(dir, 'app.mts'), app)
      writeFileSync(join(dir, 'app.cts'), app)
    })

    afterAll(() => {
      if (dir !== '') rmSync(dir, { recursive: true, force: true })
    })

    it('installs no @types package that declares passport globals', () => {
      expect([...typesInstalledWithPackages().keys()]).not.toContain('@types/passport')
    })

    it('leaves req.user and req.isAuthenticated off Express Request (tsc without a types list)', async () => {
      const { code, output } = await typecheck()
      expect(output).toBe('')
      expect(code).toBe(0)
    })

    it('would see them if @types/passport were installed (the check above can fail)', async () => {
      const passportTypes = locate('@types/passport', resolve(ROOT, 'packages/guard'))!
      const leaked = join(dir, 'node_modules/@types/passport')
      const added = !existsSync(leaked)
      if (added) symlinkSync(passportTypes, leaked, 'dir')
      try {
        const { code, output } = await typecheck()
        expect(code).not.toBe(0)
        // Each @ts-expect-error above is now unused, in both files.
        expect(output.match(/error TS2578: Unused '@ts-expect-error' directive/g)).toHaveLength(6)
      } finally {
        if (added) rmSync(leaked)
      }
    })
  },
)
