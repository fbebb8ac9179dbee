import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { ON_EXPRESS_4 } from './helpers.js'
import { ROOT } from './support/processes.js'

const run = promisify(execFile)

// The names each package must export, whichever way it is loaded.
const EXPORTS = {
  '@ccflow/issuer': [
    'tokenEndpoint',
    'staticClientStore',
    'jsonFileClientStore',
    'validateClient',
    'generateClientSecret',
    'hashClientSecret',
    'verifyClientSecret',
    'parseSecretId',
    'generateSigningKey',
    'importSigningKeys',
    'TokenError',
    'isTokenError',
    'TemporarilyUnavailableError',
  ],
  '@ccflow/guard': [
    'requireToken',
    'requireScopes',
    'requireAnyScope',
    'createTokenVerifier',
    'BearerJwtStrategy',
    'BearerError',
    'isBearerError',
    'ServiceUnavailableError',
  ],
  '@ccflow/client': [
    'createTokenClient',
    'redisTokenStore',
    'attachTokenClient',
    'TokenClientError',
    'isTokenClientError',
    'OAuthError',
    'ThrottledError',
    'TransportError',
    'CLIENT_CHANNELS',
  ],
} as const

type PackageName = keyof typeof EXPORTS

// Per package: the error base class, a 503 to build, the brand check and the 503's dependency
// (null for the client, whose errors name none).
const BRANDED: Record<
  PackageName,
  { base: string; unavailable: string; check: string; dependency: string | null }
> = {
  '@ccflow/issuer': {
    base: 'TokenError',
    unavailable: "TemporarilyUnavailableError('denylist')",
    check: 'isTokenError',
    dependency: 'denylist',
  },
  '@ccflow/guard': {
    base: 'BearerError',
    unavailable: "ServiceUnavailableError('revocation_check_failed')",
    check: 'isBearerError',
    dependency: 'revocation_check',
  },
  '@ccflow/client': {
    base: 'TokenClientError',
    unavailable: 'ThrottledError(30, 503)',
    check: 'isTokenClientError',
    dependency: null,
  },
}

// Per package: an error to build from each build, and its expected code.
const SAMPLE_ERROR: Record<PackageName, { make: string; code: string }> = {
  '@ccflow/issuer': { make: 'new m.InvalidClientError()', code: 'invalid_client' },
  '@ccflow/guard': { make: "new m.InsufficientScopeError(['a'])", code: 'insufficient_scope' },
  '@ccflow/client': { make: "new m.OAuthError('invalid_client', 401)", code: 'oauth_error' },
}

/** Runs plain `node` (no loader, no vitest) from test/, where both packages resolve by name. */
async function node(args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, args, {
    cwd: resolve(ROOT, 'test'),
    env: { PATH: process.env.PATH, NODE_OPTIONS: '' },
  })
  return stdout
}

/** A script printing `{ file, names }`: where the package resolved and what it exports. */
function probe(name: PackageName, how: 'import' | 'require'): string {
  return how === 'import'
    ? `const m = await import('${name}'); console.log(JSON.stringify({ file: import.meta.resolve('${name}'), names: Object.keys(m) }))`
    : `const m = require('${name}'); console.log(JSON.stringify({ file: require.resolve('${name}'), names: Object.keys(m) }))`
}

describe.skipIf(ON_EXPRESS_4)(
  'packaging of the built packages (independent of the Express major, so e2e-express5 only)',
  () => {
    describe.each(Object.keys(EXPORTS) as PackageName[])('%s', (name) => {
      const pkgDir = resolve(ROOT, 'packages', name.replace('@ccflow/', ''))
      const pkg = JSON.parse(readFileSync(resolve(pkgDir, 'package.json'), 'utf8')) as {
        exports: Record<string, unknown>
        main: string
        types: string
        type: string
      }

      it('loads with import from an ES module, from dist/esm', async () => {
        const out = JSON.parse(
          await node(['--input-type=module', '-e', probe(name, 'import')]),
        ) as { file: string; names: string[] }
        expect(out.file).toMatch(/\/dist\/esm\/index\.js$/)
        expect(out.names).toEqual(expect.arrayContaining([...EXPORTS[name]]))
      })

      it('loads with require from CommonJS, from dist/cjs', async () => {
        const out = JSON.parse(
          await node(['--input-type=commonjs', '-e', probe(name, 'require')]),
        ) as {
          file: string
          names: string[]
        }
        expect(out.file).toMatch(/\/dist\/cjs\/index\.js$/)
        expect(out.names).toEqual(expect.arrayContaining([...EXPORTS[name]]))
      })

      it('loads with require where require(esm) is off (--no-experimental-require-module)', async () => {
        const out = JSON.parse(
          await node([
            '--no-experimental-require-module',
            '--input-type=commonjs',
            '-e',
            probe(name, 'require'),
          ]),
        ) as { names: string[] }
        expect(out.names).toEqual(expect.arrayContaining([...EXPORTS[name]]))
      })

      it('gives errors the same code and status from both builds, so apps need no instanceof', async () => {
        const { make, code } = SAMPLE_ERROR[name]
        const out = await node([
          '--input-type=module',
          '-e',
          `import * as esm from '${name}'
           import { createRequire } from 'node:module'
           const cjs = createRequire(process.cwd() + '/')('${name}')
           const [a, b] = [esm, cjs].map((m) => ${make})
           console.log(JSON.stringify([a.code, a.status, b.code, b.status]))`,
        ])
        const [esmCode, esmStatus, cjsCode, cjsStatus] = JSON.parse(out) as unknown[]
        expect(esmCode).toBe(code)
        expect([cjsCode, cjsStatus]).toEqual([esmCode, esmStatus])
      })

      it('recognizes an error from either build with the check of either build (one brand)', async () => {
        const { base, unavailable, check, dependency } = BRANDED[name]
        const out = await node([
          '--input-type=module',
          '-e',
          `import * as esm from '${name}'
           import { createRequire } from 'node:module'
           const cjs = createRequire(process.cwd() + '/')('${name}')
           const [a, b] = [esm, cjs].map((m) => new m.${unavailable})
           const lookAlike = { ...a, code: a.code, status: a.status }
           console.log(JSON.stringify({
             instanceofAcross: [a instanceof cjs.${base}, b instanceof esm.${base}],
             checks: [esm.${check}(a), esm.${check}(b), cjs.${check}(a), cjs.${check}(b)],
             statics: [esm.${base}.is(b), cjs.${base}.is(a)],
             lookAlike: [esm.${check}(lookAlike), cjs.${check}(lookAlike)],
             dependency: [a.dependency ?? null, b.dependency ?? null],
           }))`,
        ])
        const result = JSON.parse(out) as Record<string, unknown[]>
        // Two builds, two classes: what instanceof cannot tell, the shared brand does.
        expect(result.instanceofAcross).toEqual([false, false])
        expect(result.checks).toEqual([true, true, true, true])
        expect(result.statics).toEqual([true, true])
        expect(result.lookAlike).toEqual([false, false])
        expect(result.dependency).toEqual([dependency, dependency])
      })

      it('has an exports map with import and require conditions, each with its own types', () => {
        expect(pkg.type).toBe('module')
        expect(pkg.exports['.']).toEqual({
          import: { types: './dist/esm/index.d.ts', default: './dist/esm/index.js' },
          require: { types: './dist/cjs/index.d.ts', default: './dist/cjs/index.js' },
        })
        for (const file of [
          'dist/esm/index.js',
          'dist/esm/index.d.ts',
          'dist/cjs/index.js',
          'dist/cjs/index.d.ts',
          pkg.main,
          pkg.types,
        ]) {
          expect(existsSync(resolve(pkgDir, file)), file).toBe(true)
        }
        // Without this nested package.json, Node would read dist/cjs/*.js as ES modules.
        expect(JSON.parse(readFileSync(resolve(pkgDir, 'dist/cjs/package.json'), 'utf8'))).toEqual({
          type: 'commonjs',
        })
      })
    })
  },
)

describe.skipIf(ON_EXPRESS_4)(
  'TypeScript consumers of the built packages (e2e-express5 only)',
  () => {
    // Inside test/node_modules so that both packages (and express's types) resolve by name.
    const dir = resolve(ROOT, 'test/node_modules/.cache/ccflow-ts-consumer')
    const tsc = resolve(ROOT, 'node_modules/typescript/bin/tsc')
    const source = `import { tokenEndpoint, type TokenEndpointOptions } from '@ccflow/issuer'
import { requireToken, type AuthInfo } from '@ccflow/guard'
import type { Request } from 'express'
export const endpoint: (options: TokenEndpointOptions) => unknown = tokenEndpoint
export const guard: typeof requireToken = requireToken
export const auth = (req: Request): AuthInfo | undefined => req.auth
`

    /** Type-checks `files` with `options` and lists the ccflow declaration files tsc used. */
    async function check(files: Record<string, string>, options: string[]): Promise<string[]> {
      rmSync(dir, { recursive: true, force: true })
      mkdirSync(dir, { recursive: true })
      for (const [name, text] of Object.entries(files)) writeFileSync(resolve(dir, name), text)
      try {
        const { stdout } = await run(
          process.execPath,
          [
            tsc,
            '--noEmit',
            '--strict',
            '--skipLibCheck',
            '--types',
            'node',
            '--listFiles',
            ...options,
          ].concat(Object.keys(files).map((name) => resolve(dir, name))),
          { cwd: dir },
        )
        return stdout
          .split('\n')
          .filter((line) =>
            /packages\/(issuer|guard|client)\/dist\/(esm|cjs)\/(index|prometheus|opentelemetry)\.d\.ts$/.test(
              line,
            ),
          )
          .map((line) => line.replace(/^.*packages\//, ''))
          .sort()
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }

    it('resolves each condition to its own types under module nodenext (.mts and .cts)', async () => {
      const used = await check({ 'esm.mts': source, 'cjs.cts': source }, [
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
      ])
      expect(used).toEqual([
        'guard/dist/cjs/index.d.ts',
        'guard/dist/esm/index.d.ts',
        'issuer/dist/cjs/index.d.ts',
        'issuer/dist/esm/index.d.ts',
      ])
    })

    it('resolves the top-level types under moduleResolution node10', async () => {
      const used = await check({ 'app.ts': source }, [
        '--module',
        'commonjs',
        '--moduleResolution',
        'node10',
        '--esModuleInterop',
      ])
      expect(used).toEqual(['guard/dist/cjs/index.d.ts', 'issuer/dist/cjs/index.d.ts'])
    })

    const adapters = `import { registerIssuerMetrics, type IssuerMetricsOptions } from '@ccflow/issuer/prometheus'
import { registerIssuerInstrumentation } from '@ccflow/issuer/opentelemetry'
export const prometheus: (options: IssuerMetricsOptions) => () => void = registerIssuerMetrics
export const otel: typeof registerIssuerInstrumentation = registerIssuerInstrumentation
import { registerGuardMetrics, type GuardMetricsOptions } from '@ccflow/guard/prometheus'
import { registerGuardInstrumentation } from '@ccflow/guard/opentelemetry'
export const guardPrometheus: (options: GuardMetricsOptions) => () => void = registerGuardMetrics
export const guardOtel: typeof registerGuardInstrumentation = registerGuardInstrumentation
import { registerClientMetrics, type ClientMetricsOptions } from '@ccflow/client/prometheus'
import { registerClientInstrumentation } from '@ccflow/client/opentelemetry'
export const clientPrometheus: (options: ClientMetricsOptions) => () => void = registerClientMetrics
export const clientOtel: typeof registerClientInstrumentation = registerClientInstrumentation
`

    it('resolves the adapter subpaths to their own types under nodenext and node10', async () => {
      const nodenext = await check({ 'esm.mts': adapters, 'cjs.cts': adapters }, [
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
      ])
      expect(nodenext).toEqual([
        'client/dist/cjs/opentelemetry.d.ts',
        'client/dist/cjs/prometheus.d.ts',
        'client/dist/esm/opentelemetry.d.ts',
        'client/dist/esm/prometheus.d.ts',
        'guard/dist/cjs/opentelemetry.d.ts',
        'guard/dist/cjs/prometheus.d.ts',
        'guard/dist/esm/opentelemetry.d.ts',
        'guard/dist/esm/prometheus.d.ts',
        'issuer/dist/cjs/opentelemetry.d.ts',
        'issuer/dist/cjs/prometheus.d.ts',
        'issuer/dist/esm/opentelemetry.d.ts',
        'issuer/dist/esm/prometheus.d.ts',
      ])
      // node10 knows no exports map: typesVersions points it at the CJS types.
      const node10 = await check({ 'app.ts': adapters }, [
        '--module',
        'commonjs',
        '--moduleResolution',
        'node10',
        '--esModuleInterop',
      ])
      expect(node10).toEqual([
        'client/dist/cjs/opentelemetry.d.ts',
        'client/dist/cjs/prometheus.d.ts',
        'guard/dist/cjs/opentelemetry.d.ts',
        'guard/dist/cjs/prometheus.d.ts',
        'issuer/dist/cjs/opentelemetry.d.ts',
        'issuer/dist/cjs/prometheus.d.ts',
      ])
    })
  },
)

// The optional adapters: subpaths of @ccflow/issuer, @ccflow/guard and @ccflow/client, loaded only
// when asked for.
const ADAPTERS = {
  '@ccflow/issuer/prometheus': { file: 'prometheus', names: ['registerIssuerMetrics'] },
  '@ccflow/issuer/opentelemetry': {
    file: 'opentelemetry',
    names: ['registerIssuerInstrumentation'],
  },
  '@ccflow/guard/prometheus': { file: 'prometheus', names: ['registerGuardMetrics'] },
  '@ccflow/guard/opentelemetry': {
    file: 'opentelemetry',
    names: ['registerGuardInstrumentation'],
  },
  '@ccflow/client/prometheus': { file: 'prometheus', names: ['registerClientMetrics'] },
  '@ccflow/client/opentelemetry': {
    file: 'opentelemetry',
    names: ['registerClientInstrumentation'],
  },
  '@ccflow/issuer/postgres': {
    file: 'postgres',
    names: [
      'RegistryError',
      'migrate',
      'postgresClientRegistry',
      'postgresClientStore',
      'schemaVersion',
    ],
  },
} as const

describe.skipIf(ON_EXPRESS_4)('the adapters as built (e2e-express5 only)', () => {
  describe.each(Object.keys(ADAPTERS) as (keyof typeof ADAPTERS)[])('%s', (name) => {
    const { file, names } = ADAPTERS[name]

    it.each([
      [
        'import from an ES module',
        'esm',
        ['--input-type=module', '-e', probe(name as PackageName, 'import')],
      ],
      [
        'require from CommonJS',
        'cjs',
        ['--input-type=commonjs', '-e', probe(name as PackageName, 'require')],
      ],
      [
        'require where require(esm) is off',
        'cjs',
        [
          '--no-experimental-require-module',
          '--input-type=commonjs',
          '-e',
          probe(name as PackageName, 'require'),
        ],
      ],
    ])('loads with %s, from dist/%s', async (_, build, args) => {
      const out = JSON.parse(await node(args)) as { file: string; names: string[] }
      expect(out.file).toMatch(new RegExp(`/dist/${build}/${file}\\.js$`))
      expect([...out.names].sort()).toEqual([...names])
    })
  })

  it('loads @ccflow/issuer/postgres without loading pg, which the caller brings', async () => {
    const out = await node([
      '--input-type=commonjs',
      '-e',
      `require('@ccflow/issuer/postgres')
       console.log(JSON.stringify(Object.keys(require.cache).filter((p) => /[\\/]pg[\\/]/.test(p))))`,
    ])
    expect(JSON.parse(out)).toEqual([])
  })

  it('keeps prom-client and @opentelemetry/api out of the main entry', async () => {
    const out = await node([
      '--input-type=commonjs',
      '-e',
      `require('@ccflow/issuer')
       require('@ccflow/guard')
       require('@ccflow/client')
       console.log(JSON.stringify(Object.keys(require.cache).filter((p) => /prom-client|@opentelemetry/.test(p))))`,
    ])
    expect(JSON.parse(out)).toEqual([])
  })

  it('counts with the CJS adapter the requests of a token endpoint from the ESM build', async () => {
    const out = await node([
      '--input-type=module',
      '-e',
      `import express from 'express'
       import { createRequire } from 'node:module'
       import { tokenEndpoint, staticClientStore, generateSigningKey, generateClientSecret, hashClientSecret } from '@ccflow/issuer'
       const require = createRequire(process.cwd() + '/')
       const { registerIssuerMetrics } = require('@ccflow/issuer/prometheus')
       const { Registry } = require(require.resolve('prom-client', { paths: [require.resolve('@ccflow/issuer/prometheus')] }))
       const registry = new Registry()
       registerIssuerMetrics({ registry })
       const { secret, secretId } = generateClientSecret()
       const clients = staticClientStore([{ client_id: 'c', scope: 'a', audiences: ['https://api.example'],
         secrets: [{ id: secretId, hash: await hashClientSecret(secret) }] }])
       const app = express().use(tokenEndpoint({ issuer: 'http://127.0.0.1', clients, keys: [generateSigningKey('ES256')] }))
       const server = app.listen(0, '127.0.0.1')
       await new Promise((r) => server.once('listening', r))
       const url = 'http://127.0.0.1:' + server.address().port + '/token'
       const auth = 'Basic ' + Buffer.from('c:' + secret).toString('base64')
       for (const authorization of [auth, auth, 'Basic ' + Buffer.from('c:wrong').toString('base64')]) {
         await fetch(url, { method: 'POST', headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' })
       }
       server.close()
       console.log((await registry.metrics()).split('\\n').filter((l) => l.startsWith('ccflow_issuer_token_requests_total')).join('\\n'))`,
    ])
    expect(out.trim().split('\n')).toEqual([
      'ccflow_issuer_token_requests_total{grant_type="client_credentials",outcome="success"} 2',
      'ccflow_issuer_token_requests_total{grant_type="client_credentials",outcome="invalid_client"} 1',
    ])
  })
})
