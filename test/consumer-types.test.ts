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

/** What a tsc run printed and how it exited. */
interface TscResult {
  code: number
  output: string
}

/** Runs `tsc` (a typescript package's bin) on the project in `dir`. */
async function runTsc(tsc: string, dir: string): Promise<TscResult> {
  try {
    const { stdout } = await run(process.execPath, [tsc, '-p', dir], { cwd: dir })
    return { code: 0, output: stdout }
  } catch (err) {
    const { code, stdout } = err as { code: number; stdout: string }
    return { code, output: stdout }
  }
}

/**
 * An app outside the repository (so that no node_modules/@types of ours is an ancestor of it)
 * whose node_modules hold what installing the packages with npm gives it: the packages, express
 * and its types, `nodeTypes` as @types/node, and the @types packages npm hoists next to them from
 * the packages' dependencies. Then its tsconfig.json and `files`, which it compiles.
 */
function createConsumerApp(
  nodeTypes: string,
  compilerOptions: Record<string, unknown>,
  files: Record<string, string>,
): string {
  const dir = mkdtempSync(join(tmpdir(), 'ccflow-consumer-'))
  const link = (target: string, name: string): void => {
    mkdirSync(dirname(join(dir, 'node_modules', name)), { recursive: true })
    symlinkSync(target, join(dir, 'node_modules', name), 'dir')
  }
  for (const name of PUBLISHED) link(resolve(ROOT, 'packages', name), `@ccflow/${name}`)
  const testDir = resolve(ROOT, 'test')
  for (const name of ['express', '@types/express']) link(locate(name, testDir)!, name)
  link(nodeTypes, '@types/node')
  for (const [name, at] of typesInstalledWithPackages()) {
    if (!existsSync(join(dir, 'node_modules', name))) link(at, name)
  }
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions, files: Object.keys(files) }),
  )
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  return dir
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

    /** Runs the repository's tsc in the app; its exit code and output. */
    const typecheck = (): Promise<TscResult> => runTsc(tsc, dir)

    beforeAll(() => {
      // No `types` list: every package in node_modules/@types is loaded. Both conditions:
      // app.mts reads dist/esm's types, app.cts dist/cjs's.
      dir = createConsumerApp(
        locate('@types/node', resolve(ROOT, 'test'))!,
        {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
        },
        { 'app.mts': app, 'app.cts': app },
      )
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

// The Quick start option shapes, compiled as a new user's `tsc --init` project compiles them:
// exactOptionalPropertyTypes on (so `process.env.X` must be accepted where an option is
// optional), skipLibCheck off (so every shipped .d.ts is checked, and a type that resolves to
// nothing is an error instead of a silent `any`).
const quickStart = `import express from 'express'
import { readFileSync } from 'node:fs'
import {
  generateClientSecret,
  generateSigningKey,
  hashClientSecret,
  jsonFileClientStore,
  staticClientStore,
  tokenEndpoint,
  type Jwk,
  type SigningKeyInput,
  type SigningKeysInput,
  type TokenEndpointOptions,
} from '@ccflow/issuer'
import {
  createTokenVerifier,
  requireScopes,
  requireToken,
  type StaticKeyInput,
  type TokenVerifierOptions,
} from '@ccflow/guard'

/** true only for \`any\`, the type a key option must never become. */
type IsAny<T> = 0 extends 1 & T ? true : false
export const notAny: [
  IsAny<SigningKeyInput>,
  IsAny<SigningKeysInput>,
  IsAny<TokenEndpointOptions['keys']>,
  IsAny<Jwk>,
  IsAny<StaticKeyInput>,
  IsAny<TokenVerifierOptions['keys']>,
] = [false, false, false, false, false, false]

const app = express()
app.set('trust proxy', 1)
app.use(
  tokenEndpoint({
    issuer: 'https://auth.example.com',
    clients: jsonFileClientStore('clients.json'),
    keys: JSON.parse(readFileSync('signing-keys.json', 'utf8')),
    secretPepper: process.env.CCFLOW_SECRET_PEPPER,
    accessTokenTtlSeconds: process.env.TTL === undefined ? undefined : Number(process.env.TTL),
  }),
)
app.use(
  '/pem',
  tokenEndpoint({
    issuer: 'https://auth.example.com/pem',
    clients: staticClientStore([
      {
        client_id: 'billing',
        client_name: process.env.CLIENT_NAME,
        scope: 'invoices:read',
        audiences: ['https://api.example.com/invoices'],
        secrets: [{ id: 'k1', hash: '$hmac-sha256$...', expires_at: undefined }],
      },
    ]),
    keys: [{ kid: '2025-06', alg: 'ES256', privateKey: readFileSync('es256.pem', 'utf8') }],
    rateLimit: { failures: { limit: undefined }, issuance: false },
    paths: { token: process.env.TOKEN_PATH },
  }),
)
const key = generateSigningKey('ES256', { kid: process.env.KID })
const fromFile: SigningKeysInput = { keys: [key.privateJwk] }
app.use('/dev', tokenEndpoint({ issuer: 'https://a.example', clients: staticClientStore([]), keys: [key] }))
app.use('/file', tokenEndpoint({ issuer: 'https://b.example', clients: staticClientStore([]), keys: fromFile }))
app.use(
  '/wrong',
  tokenEndpoint({
    issuer: 'https://c.example',
    clients: staticClientStore([]),
    // @ts-expect-error -- a number is not a private key
    keys: [{ kid: 'k1', alg: 'ES256', privateKey: 12345 }],
  }),
)

const publicJwk: Jwk = key.publicJwk
app.use(
  '/api',
  requireToken({
    issuer: 'https://auth.example.com',
    audience: 'https://api.example.com',
    jwksUri: process.env.JWKS_URI,
    discover: process.env.JWKS_URI === undefined ? true : undefined,
    jwks: { timeoutMs: undefined },
    tokenLocations: { body: undefined },
  }),
)
app.get('/api/reports', requireScopes('reports:read'), (req, res) => {
  res.json({ client: req.auth?.clientId, scopes: req.auth?.scopes })
})
export const verifier = createTokenVerifier({
  issuer: 'https://auth.example.com',
  audience: 'https://api.example.com',
  keys: [publicJwk, { key: publicJwk, kid: process.env.KID }],
  // @ts-expect-error -- a number is not a verification key
  algorithms: [12345],
})

const { secretId, secret } = generateClientSecret({ secretId: process.env.SECRET_ID })
export const entry = hashClientSecret(secret, { pepper: process.env.CCFLOW_SECRET_PEPPER }).then(
  (hash) => ({ id: secretId, hash }),
)
app.listen(3000)
`

// The CommonJS declarations (dist/cjs), loaded with require as a CommonJS app does.
const quickStartRequire = `import issuer = require('@ccflow/issuer')
import guard = require('@ccflow/guard')

const endpoint = issuer.tokenEndpoint({
  issuer: 'https://auth.example.com',
  clients: issuer.jsonFileClientStore('clients.json'),
  keys: [issuer.generateSigningKey('ES256').privateJwk],
  secretPepper: process.env.CCFLOW_SECRET_PEPPER,
})
const api = guard.requireToken({
  issuer: 'https://auth.example.com',
  audience: 'https://api.example.com',
  jwksUri: process.env.JWKS_URI,
})
// @ts-expect-error -- a number is not a private key
const wrong: issuer.SigningKeyInput = { kid: 'k1', alg: 'ES256', privateKey: 12345 }
export = { endpoint, api, wrong }
`

interface Toolchain {
  /** The `typescript` package folder. */
  typescript: string
  /** The `@types/node` package folder. */
  nodeTypes: string
}

const toolchainsDir = resolve(ROOT, 'test/toolchains/node_modules')
const version = (dir: string): string =>
  (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version
const repositoryNodeTypes = locate('@types/node', resolve(ROOT, 'test'))!
// The oldest supported: TypeScript 5.0 (the first with `verbatimModuleSyntax`, which `tsc --init`
// now sets) with the @types/node of Node 20, our oldest Node. The newest: what the npm registry
// served when this was written (bump test/toolchains/package.json to follow it).
// (The repository's own TypeScript, between the two, compiles the packages and the tests above.)
const TOOLCHAINS: Record<string, Toolchain> = {
  oldest: { typescript: join(toolchainsDir, 'typescript-oldest'), nodeTypes: repositoryNodeTypes },
  newest: {
    typescript: join(toolchainsDir, 'typescript-newest'),
    nodeTypes: realpathSync(join(toolchainsDir, 'types-node-newest')),
  },
}

describe.skipIf(ON_EXPRESS_4)(
  'the built type declarations under tsc --init settings (e2e-express5 only)',
  () => {
    const dirs: string[] = []
    afterAll(() => {
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
    })

    /** An app with this toolchain's Node types, compiled with `tsc --init`'s settings. */
    function appWith(toolchain: Toolchain, files: Record<string, string>): string {
      const dir = createConsumerApp(
        toolchain.nodeTypes,
        // What `tsc --init` writes today (TypeScript 7), less what only emitting needs, and with
        // skipLibCheck off.
        {
          module: 'nodenext',
          target: 'es2022',
          types: ['node'],
          strict: true,
          exactOptionalPropertyTypes: true,
          noUncheckedIndexedAccess: true,
          verbatimModuleSyntax: true,
          isolatedModules: true,
          moduleDetection: 'force',
          skipLibCheck: false,
          noEmit: true,
        },
        files,
      )
      dirs.push(dir)
      return dir
    }

    const typecheck = (toolchain: Toolchain, dir: string): Promise<TscResult> =>
      runTsc(join(toolchain.typescript, 'bin/tsc'), dir)

    it.each(Object.entries(TOOLCHAINS))(
      'compiles the Quick start option shapes with the %s TypeScript and @types/node, skipLibCheck off',
      async (_name, toolchain) => {
        const dir = appWith(toolchain, {
          'quick-start.mts': quickStart,
          'quick-start-require.cts': quickStartRequire,
        })
        const { code, output } = await typecheck(toolchain, dir)
        expect(
          `TypeScript ${version(toolchain.typescript)}, @types/node ${version(toolchain.nodeTypes)}\n${output}`,
        ).toBe(
          `TypeScript ${version(toolchain.typescript)}, @types/node ${version(toolchain.nodeTypes)}\n`,
        )
        expect(code).toBe(0)
      },
      120_000,
    )

    it('refuses privateKey: 12345 with the newest TypeScript and @types/node', async () => {
      const toolchain = TOOLCHAINS.newest!
      const dir = appWith(toolchain, {
        'wrong.mts': `import { tokenEndpoint, staticClientStore } from '@ccflow/issuer'
export const endpoint = tokenEndpoint({
  issuer: 'https://auth.example.com',
  clients: staticClientStore([]),
  keys: [{ kid: 'k1', alg: 'ES256', privateKey: 12345 }],
})
`,
      })
      const { code, output } = await typecheck(toolchain, dir)
      expect(code).not.toBe(0)
      expect(output).toMatch(/^wrong\.mts\(5,\d+\): error TS2322: /m)
      expect(
        output
          .trim()
          .split('\n')
          .filter((line) => /error TS/.test(line)),
      ).toHaveLength(1)
    }, 120_000)
  },
)
