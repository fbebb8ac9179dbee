import { generateKeyPairSync } from 'node:crypto'
import { copyFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  type Client,
  generateSigningKey,
  staticClientStore,
  tokenEndpoint,
  verifyClientSecret,
} from '@ccflow/issuer'
import express from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  fetchToken,
  type Listening,
  listenOnEphemeralPort,
  makeClient,
  ON_EXPRESS_4,
} from './helpers.js'
import {
  assembleApp,
  type CommandResult,
  cleanEnv,
  installIntoCache,
  makeAppDir,
  planPackedApp,
  removeDir,
  runCommand,
} from './support/packed-app.js'
import { ROOT } from './support/processes.js'
import { allReadmeBlocks, type ReadmeBlock, readmeBlocks } from './support/readme-samples.js'
import { type SampleRun, withSample } from './support/run-sample.js'

// What a new user gets today from the registry: the newest releases on 2026-12-07
// (`npm view <name> version`). Bump them when newer ones come out.
const PINS = {
  express: '5.3.0',
  typescript: '7.0.2',
  '@types/node': '26.6.11',
  '@types/express': '5.0.6',
}

// Checks that fail on main until another fix of issue 17 lands. They run as `it.fails`, so a
// check that starts passing turns red: whoever merges that item's fix deletes its entries here.
const PENDING_UNTIL_ISSUE_17_ITEM_1: string[] = []
const PENDING_UNTIL_ISSUE_17_ITEM_2: string[] = []
const PENDING_UNTIL_ISSUE_17_ITEM_3: string[] = []
const PENDING_UNTIL_ISSUE_17_ITEM_4: string[] = []
const PENDING_UNTIL_ISSUE_17_ITEM_5: string[] = []
const PENDING_UNTIL_ISSUE_17_ITEM_6: string[] = []
const PENDING_UNTIL_ISSUE_17_ITEM_7: string[] = []
const PENDING_UNTIL_ISSUE_17_ITEM_8: string[] = []

const PENDING = new Map<string, number>()
for (const [item, names] of [
  [1, PENDING_UNTIL_ISSUE_17_ITEM_1],
  [2, PENDING_UNTIL_ISSUE_17_ITEM_2],
  [3, PENDING_UNTIL_ISSUE_17_ITEM_3],
  [4, PENDING_UNTIL_ISSUE_17_ITEM_4],
  [5, PENDING_UNTIL_ISSUE_17_ITEM_5],
  [6, PENDING_UNTIL_ISSUE_17_ITEM_6],
  [7, PENDING_UNTIL_ISSUE_17_ITEM_7],
  [8, PENDING_UNTIL_ISSUE_17_ITEM_8],
] as const) {
  for (const name of names) PENDING.set(name, item)
}

/** Every check this file declares, to catch a pending entry that names none. */
const declared = new Set<string>()

// Most checks start Node processes: generous, for a busy two-core CI machine. A hang still fails.
const CHECK_TIMEOUT_MS = 120_000

/** `it`, or `it.fails` while the check waits for another fix of issue 17. */
function check(name: string, fn: () => void | Promise<void>, timeoutMs = CHECK_TIMEOUT_MS): void {
  declared.add(name)
  const item = PENDING.get(name)
  if (item === undefined) it(name, fn, timeoutMs)
  else it.fails(`${name} (pending until issue 17 item ${item} lands)`, fn, timeoutMs)
}

const blocks = allReadmeBlocks(ROOT)
const samples = blocks.filter((block) => block.kind === 'complete')

// The one client of the fixture clients.json: every audience and scope the samples ask for.
const FIXTURE_CLIENT = {
  client_id: 'billing',
  scope: 'reports:read invoices:read invoices:write',
  audiences: ['https://api.example', 'https://api.example.com', 'https://api.example.com/invoices'],
}

/** What a sample's check gets: the run, the fixture client's secret and the stand-in issuers. */
interface DriverContext {
  secret: string
  standIns: Record<string, Listening>
}

/** Fetches a token for the fixture client from `url`'s token endpoint. */
async function tokenFrom(
  url: string,
  ctx: DriverContext,
  resource: string,
  scope = 'reports:read',
): Promise<string> {
  const response = await fetchToken(
    `${url}/token`,
    { clientId: 'billing', secret: ctx.secret },
    { scope, resource },
  )
  return response.access_token
}

/** `GET url`, with a bearer token when given: status and JSON body. */
async function getJson(url: string, token?: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  })
  return { status: res.status, body: await res.json() }
}

/**
 * What "runs" means for a named sample, beyond starting: each drives it as its README says.
 * `standIns` are issuers the sample reaches over the network (served by this test).
 */
const DRIVERS: Record<
  string,
  { standIns?: string[]; check(run: SampleRun, ctx: DriverContext): void | Promise<void> }
> = {
  'root-quick-start': {
    async check(run, ctx) {
      const token = await tokenFrom(run.url(4000), ctx, 'https://api.example')
      expect(await getJson(`${run.url(4001)}/reports`, token)).toEqual({
        status: 200,
        body: { caller: 'billing' },
      })
    },
  },
  'issuer-quick-start': {
    async check(run, ctx) {
      const invoices = 'https://api.example.com/invoices'
      const token = await tokenFrom(run.url(3000), ctx, invoices, 'invoices:read')
      expect(token.split('.')).toHaveLength(3)
    },
  },
  'issuer-make-secret': {
    async check(run) {
      expect(run.exitCode).toBe(0)
      const [secret, entry] = run.stdout().trim().split(' ', 2) as [string, string]
      const { id, hash } = JSON.parse(entry) as { id: string; hash: string }
      expect(secret.startsWith(`ccs_${id}_`)).toBe(true)
      expect(await verifyClientSecret(secret, hash)).toBe(true)
      // The entry is one a client record accepts as it is.
      expect(() =>
        staticClientStore([{ ...FIXTURE_CLIENT, secrets: [{ id, hash }] }]),
      ).not.toThrow()
    },
  },
  'guard-quick-start': {
    standIns: ['https://auth.example.com'],
    async check(run, ctx) {
      const api = `${run.url(3000)}/api/reports`
      expect((await getJson(api)).status).toBe(401)
      const issuer = ctx.standIns['https://auth.example.com'] as Listening
      const token = await tokenFrom(issuer.url, ctx, 'https://api.example.com')
      expect(await getJson(api, token)).toEqual({
        status: 200,
        body: { client: 'billing', scopes: ['reports:read'] },
      })
    },
  },
  'guard-same-process': {
    async check(run, ctx) {
      const token = await tokenFrom(run.url(3000), ctx, 'https://api.example')
      expect(await getJson(`${run.url(3000)}/reports`, token)).toEqual({
        status: 200,
        body: { caller: 'billing' },
      })
    },
  },
  'cli-run-secret': {
    check(run) {
      expect(run.exitCode).toBe(0)
      expect(run.stdout()).toMatch(/"ccs_[A-Za-z0-9-]+_[A-Za-z0-9_-]{43}"/)
    },
  },
}

/** A sample without a driver must exit 0, or listen and answer HTTP on every port it asked for. */
async function defaultCheck(run: SampleRun): Promise<void> {
  if (run.exitCode !== undefined) {
    expect(run.exitCode).toBe(0)
    return
  }
  for (const port of Object.keys(run.ports)) {
    await expect(fetch(run.url(Number(port)))).resolves.toBeInstanceOf(Response)
  }
}

// Compile-only checks, beside the samples under the same tsconfig.
const TYPE_CHECKS: Record<string, string> = {
  'option-typo.ts': `import { requireToken } from '@ccflow/guard'

export const guard = requireToken({
  issuer: 'https://auth.example.com',
  audiance: 'https://api.example',
  jwksUri: 'https://auth.example.com/jwks.json',
})
`,
  'env-options.ts': `import { jsonFileClientStore, tokenEndpoint } from '@ccflow/issuer'
import { requireToken } from '@ccflow/guard'

export const endpoint = tokenEndpoint({
  issuer: 'https://auth.example.com',
  clients: jsonFileClientStore('clients.json'),
  keys: [],
  secretPepper: process.env.CCFLOW_SECRET_PEPPER,
})
export const guard = requireToken({
  issuer: 'https://auth.example.com',
  audience: 'https://api.example',
  jwksUri: process.env.JWKS_URI,
})
`,
  'private-key-type.ts': `import type { SigningKeyInput } from '@ccflow/issuer'

// @ts-expect-error -- a number is no key
export const key: SigningKeyInput = { kid: 'k1', alg: 'ES256', privateKey: 12345 }
`,
}

// Programs that make the first hour's mistakes with the installed packages. Each prints one
// JSON line; what it logs is on standard error. kit.mjs is test/support/packed-app/kit.mjs.
const MISTAKES: Record<string, string> = {
  'messages.mjs': `import {
  generateSigningKey,
  jsonFileClientStore,
  staticClientStore,
  tokenEndpoint,
} from '@ccflow/issuer'
import { requireToken } from '@ccflow/guard'
import { messageOf, print } from './kit.mjs'

const keys = [generateSigningKey('ES256')]
const clients = staticClientStore([])
const issuer = 'https://auth.example.com'
const jwksUri = 'https://auth.example.com/jwks.json'
const record = { client_id: 'billing', scope: 'reports:read' }
print({
  guardTypo: messageOf(() => requireToken({ issuer, audiance: 'https://api.example', jwksUri })),
  endpointTypo: messageOf(() => tokenEndpoint({ issuerr: issuer, clients, keys })),
  recordTypo: messageOf(() => staticClientStore([{ ...record, audiances: ['https://api.example'], secrets: [] }])),
  endpointNoIssuer: messageOf(() => tokenEndpoint({ clients, keys })),
  guardNoIssuer: messageOf(() => requireToken({ audience: 'https://api.example', jwksUri })),
  oldRecordField: messageOf(() =>
    staticClientStore([{ ...record, audiences: ['https://api.example'], client_secret_hash: '$hmac-sha256$x' }]),
  ),
  missingFile: messageOf(() => jsonFileClientStore('no-such-clients.json')),
  cwd: process.cwd(),
})
`,
  'warnings.mjs': `import { generateSigningKey, staticClientStore, tokenEndpoint } from '@ccflow/issuer'
import { requireToken } from '@ccflow/guard'
import { messageOf, print } from './kit.mjs'

const key = generateSigningKey('ES256')
const trailingSlash = messageOf(() =>
  tokenEndpoint({ issuer: 'https://auth.example.com/', clients: staticClientStore([]), keys: [key] }),
)
const privateKey = messageOf(() =>
  requireToken({ issuer: 'https://auth.example.com', audience: 'https://api.example', keys: [key.privateJwk] }),
)
await new Promise((resolve) => setImmediate(resolve)) // process.emitWarning prints on a later tick
print({ trailingSlash, privateKey })
`,
  'audience.mjs': `import express from 'express'
import { requireToken } from '@ccflow/guard'
import { get, listen, makeClient, print, requestToken, startIssuer } from './kit.mjs'

const { record, secret } = await makeClient({ audiences: ['https://api.example/reports'] })
const issuer = await startIssuer(record)
const guard = requireToken({ issuer: issuer.url, audience: 'https://api.example/orders', keys: [issuer.key.publicJwk] })
const api = await listen(() => express().get('/orders', guard, (req, res) => res.json({})))
const { body } = await requestToken(issuer.url, 'billing', secret, 'https://api.example/reports')
const answers = [await get(api.url + '/orders', body.access_token), await get(api.url + '/orders', body.access_token)]
await Promise.all([issuer.close(), api.close()])
print({ answers })
`,
  'issuer-discovery.mjs': `import express from 'express'
import { requireToken } from '@ccflow/guard'
import { API, get, listen, makeClient, print, requestToken, startIssuer } from './kit.mjs'

// The issuer says http://127.0.0.1:<port>; the guard was told http://localhost:<port>.
const { record, secret } = await makeClient()
const issuer = await startIssuer(record)
const claimed = issuer.url.replace('127.0.0.1', 'localhost')
const guard = requireToken({ issuer: claimed, audience: API, discover: true })
const api = await listen(() => express().get('/reports', guard, (req, res) => res.json({})))
const { body } = await requestToken(issuer.url, 'billing', secret)
const answers = [await get(api.url + '/reports', body.access_token), await get(api.url + '/reports', body.access_token)]
const readyError = await guard.ready.then(() => null, (err) => err.message)
guard.close()
await Promise.all([issuer.close(), api.close()])
print({ answers, readyError, actual: issuer.url, claimed })
`,
  'issuer-static.mjs': `import express from 'express'
import { requireToken } from '@ccflow/guard'
import { API, get, listen, makeClient, print, requestToken, startIssuer } from './kit.mjs'

const { record, secret } = await makeClient()
const issuer = await startIssuer(record)
const claimed = issuer.url.replace('127.0.0.1', 'localhost')
const guard = requireToken({ issuer: claimed, audience: API, keys: [issuer.key.publicJwk] })
const api = await listen(() => express().get('/reports', guard, (req, res) => res.json({})))
const { body } = await requestToken(issuer.url, 'billing', secret)
const answers = [await get(api.url + '/reports', body.access_token), await get(api.url + '/reports', body.access_token)]
await Promise.all([issuer.close(), api.close()])
print({ answers, actual: issuer.url, claimed })
`,
  'pepper.mjs': `import { makeClient, print, requestToken, startIssuer } from './kit.mjs'

// Hashed with a pepper; the endpoint was started without one.
const { record, secret } = await makeClient({ pepper: 'a pepper of at least thirty-two bytes!' })
const issuer = await startIssuer(record)
const answers = [await requestToken(issuer.url, 'billing', secret), await requestToken(issuer.url, 'billing', secret)]
await issuer.close()
print({ answers })
`,
  'same-app.mjs': `import { once } from 'node:events'
import { setTimeout as delay } from 'node:timers/promises'
import express from 'express'
import { generateSigningKey, staticClientStore, tokenEndpoint } from '@ccflow/issuer'
import { requireToken } from '@ccflow/guard'
import { API, get, listen, makeClient, print, requestToken } from './kit.mjs'

// The issue's case: issuer and guard in one app, the guard made before listen, discover: true.
const free = await listen(() => () => {})
await free.close()
const url = free.url
const { record, secret } = await makeClient()
const keys = [generateSigningKey('ES256')]
const endpoint = () => tokenEndpoint({ issuer: url, clients: staticClientStore([record]), keys })
// The token comes first, from a second instance of the same issuer (same key), so that the
// request below follows listen by milliseconds, well inside the guard's 1 s retry wait.
const twin = await listen(() => express().use(endpoint()))
const { body } = await requestToken(twin.url, 'billing', secret)
await twin.close()
const app = express()
app.use(endpoint())
const guard = requireToken({ issuer: url, audience: API, discover: true })
app.get('/reports', guard, (req, res) => res.json({ caller: req.auth.clientId }))
// The first fetch fails (nothing listens yet): guard.ready rejects.
await Promise.race([guard.ready.catch(() => {}), delay(2000)])
const server = app.listen(Number(new URL(url).port), '127.0.0.1')
await once(server, 'listening')
const first = await get(url + '/reports', body.access_token)
guard.close()
server.closeAllConnections()
server.close()
print({ first })
`,
  'keygen-keys.mjs': `import { readFileSync } from 'node:fs'
import { staticClientStore, tokenEndpoint } from '@ccflow/issuer'
import { messageOf, print } from './kit.mjs'

// keys.json: written by \`ccflow keygen --alg ES256 --out keys.json\` (the packed CLI).
const { keys } = JSON.parse(readFileSync('keys.json', 'utf8'))
const clients = staticClientStore([])
print({ message: messageOf(() => tokenEndpoint({ issuer: 'https://auth.example.com', clients, keys })) })
`,
}

/** What a mistake program printed (its last stdout line) and logged. */
interface ProgramResult {
  result: Record<string, unknown>
  stderr: string
}

/**
 * tsc's `--pretty false` output, by file: `file(line,col): error TS…` and its indented lines.
 *
 * @throws {Error} On an error that names no file (a tsconfig problem): no sample is to blame.
 */
function diagnosticsByFile(output: string): Map<string, string[]> {
  const byFile = new Map<string, string[]>()
  let current: string[] | undefined
  for (const line of output.split('\n')) {
    const head = /^([^(\s][^(]*)\(\d+,\d+\): error /.exec(line)
    if (head) {
      current = byFile.get(head[1] as string) ?? []
      byFile.set(head[1] as string, current)
      current.push(line)
    } else if (/^\s/.test(line) && current) {
      current[current.length - 1] += `\n${line}`
    } else if (line.trim() !== '') {
      throw new Error(`tsc reported an error outside the samples:\n${output}`)
    }
  }
  return byFile
}

/** Lines of `text` that contain `value`. */
function linesWith(text: string, value: string): string[] {
  return text.split('\n').filter((line) => line.includes(value))
}

describe('README code blocks (the convention in CONTRIBUTING.md)', () => {
  it('takes a ts block that imports from @ccflow as a sample, named by its marker or heading', () => {
    const found = readmeBlocks(
      'packages/x/README.md',
      [
        '## Quick start',
        '',
        '```ts',
        "import { a } from '@ccflow/x'",
        '```',
        '',
        '<!-- sample: named -->',
        '',
        '```js',
        "import { b } from '@ccflow/x'",
        '```',
        '',
        '```sh',
        'npx -p @ccflow/cli ccflow secret',
        '```',
      ].join('\n'),
    )
    expect(found.map((b) => [b.kind, b.id, b.language])).toEqual([
      ['complete', 'packages/x#quick-start', 'ts'],
      ['complete', 'named', 'js'],
      ['other', 'packages/x#quick-start-3', undefined],
    ])
  })

  it('takes a block marked as a fragment out, however complete it looks', () => {
    const [block] = readmeBlocks(
      'README.md',
      ['<!-- fragment: uses `app` -->', '', '```ts', "import { a } from '@ccflow/x'", '```'].join(
        '\n',
      ),
    )
    expect(block?.kind).toBe('fragment')
  })

  it('refuses a marker with no fence after it', () => {
    expect(() => readmeBlocks('README.md', '<!-- sample: lost -->\n\nText.\n')).toThrow(
      'README.md:1: a marker with no fence after it',
    )
  })

  it('finds complete samples in the READMEs, each id once', () => {
    const ids = samples.map((sample) => sample.id)
    expect(ids).toEqual(expect.arrayContaining(Object.keys(DRIVERS)))
    expect(new Set(ids).size).toBe(ids.length)
  })

  it('says in every README with a sample that samples are ES modules', () => {
    for (const readme of new Set(samples.map((sample) => sample.readme))) {
      expect(readFileSync(join(ROOT, readme), 'utf8'), readme).toContain('"type": "module"')
    }
  })

  it('lists as pending only checks that this file declares', () => {
    expect([...PENDING.keys()].filter((name) => !declared.has(name))).toEqual([])
  })

  it('never runs the CLI as a bare `npx ccflow` outside a project that installs it', () => {
    const bare = [...new Set(blocks.map((block) => block.readme))].flatMap((readme) =>
      readFileSync(join(ROOT, readme), 'utf8')
        .split('\n')
        .map((line, i) => ({ where: `${readme}:${i + 1}`, line }))
        .filter(
          ({ line }) =>
            /\bnpx (-y )?ccflow [a-z-]/.test(line) && !/install\b.*@ccflow\/cli/.test(line),
        ),
    )
    expect(bare.map(({ where }) => where)).toEqual([])
  })
})

const plan = ON_EXPRESS_4
  ? { skip: 'independent of the Express major: runs in e2e-express5 only' }
  : await planPackedApp(PINS)
if (plan.skip !== undefined && !ON_EXPRESS_4) {
  console.warn(`[ccflow tests] skipping the packed-tarball README samples: ${plan.skip}`)
}

describe.skipIf(plan.skip !== undefined)(
  `the README samples in an app that installed the packed tarballs with npm (TypeScript ${PINS.typescript}, @types/node ${PINS['@types/node']})`,
  () => {
    let app = ''
    let diagnostics = new Map<string, string[]>()
    const fixtures = { secret: '', clients: '', pem: '', keys: '' }
    const programs = new Map<string, Promise<ProgramResult>>()

    /**
     * Where a sample goes in the app: its source (relative, as tsc names it), the file node runs
     * (tsc's output for ts) and its own working directory.
     */
    function sampleFiles(sample: ReadmeBlock): { source: string; file: string; cwd: string } {
      const base = sample.id.replace(/[^a-z0-9-]+/gi, '_')
      const source = `samples/${base}.${sample.language === 'ts' ? 'ts' : 'js'}`
      const file = join(app, sample.language === 'ts' ? `dist/samples/${base}.js` : source)
      return { source, file, cwd: join(app, 'work', base) }
    }

    /** Runs a mistake program once (later calls share the result). */
    function program(name: string): Promise<ProgramResult> {
      let result = programs.get(name)
      if (result === undefined) {
        result = (async () => {
          const ran = await runCommand(process.execPath, [name], { cwd: join(app, 'mistakes') })
          if (ran.code !== 0) throw new Error(`${name} exited ${ran.code}:\n${ran.stderr}`)
          const last = ran.stdout.trim().split('\n').pop() ?? ''
          return { result: JSON.parse(last) as Record<string, unknown>, stderr: ran.stderr }
        })()
        programs.set(name, result)
      }
      return result
    }

    /** The packed CLI, as its bin entry runs it. */
    function ccflow(args: string[], cwd: string): Promise<CommandResult> {
      return runCommand(join(app, 'node_modules/.bin/ccflow'), args, { cwd })
    }

    beforeAll(async () => {
      if (plan.skip !== undefined) return
      app = makeAppDir()
      await installIntoCache(plan, PINS)
      await assembleApp(plan, app)
      // tsc --init's own defaults (strict, exactOptionalPropertyTypes, nodenext, …), plus what
      // its comments say a Node.js project adds: "types": ["node"].
      const tsc = join(app, 'node_modules/typescript/bin/tsc')
      const init = await runCommand(process.execPath, [tsc, '--init'], { cwd: app })
      expect(init.code, init.stdout + init.stderr).toBe(0)
      renameSync(join(app, 'tsconfig.json'), join(app, 'tsconfig.init.json'))
      writeFileSync(
        join(app, 'tsconfig.json'),
        JSON.stringify({
          extends: './tsconfig.init.json',
          compilerOptions: { types: ['node'], rootDir: '.', outDir: 'dist' },
          include: ['samples', 'checks'],
        }),
      )
      mkdirSync(join(app, 'samples'))
      for (const sample of samples) {
        writeFileSync(join(app, sampleFiles(sample).source), sample.code)
      }
      mkdirSync(join(app, 'checks'))
      for (const [name, text] of Object.entries(TYPE_CHECKS)) {
        writeFileSync(join(app, 'checks', name), text)
      }
      const mistakes = join(app, 'mistakes')
      mkdirSync(mistakes)
      copyFileSync(join(ROOT, 'test/support/packed-app/kit.mjs'), join(mistakes, 'kit.mjs'))
      for (const [name, text] of Object.entries(MISTAKES)) {
        writeFileSync(join(mistakes, name), text)
      }
      copyFileSync(
        join(ROOT, 'test/support/packed-app/run-sample.mjs'),
        join(app, 'run-sample.mjs'),
      )
      // One tsc run for everything; it emits even with errors, so each sample can still run.
      const compiled = await runCommand(process.execPath, [tsc, '-p', '.', '--pretty', 'false'], {
        cwd: app,
      })
      // 0: no errors; 2: errors, files emitted. Anything else is a broken setup, not a sample.
      expect([0, 2], compiled.stdout + compiled.stderr).toContain(compiled.code)
      diagnostics = diagnosticsByFile(compiled.stdout)
      // The fixture files every sample finds in its working directory.
      const { client, secret } = await makeClient(FIXTURE_CLIENT)
      fixtures.secret = secret
      fixtures.clients = JSON.stringify([client], null, 2)
      fixtures.pem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
        .privateKey.export({ type: 'pkcs8', format: 'pem' })
        .toString()
      // The signing-key file the CLI README documents, made by the packed CLI.
      const made = await ccflow(['keygen', '--alg', 'ES256', '--out', 'keys.json'], mistakes)
      expect(made.code, made.stderr).toBe(0)
      fixtures.keys = readFileSync(join(mistakes, 'keys.json'), 'utf8')
    }, 600_000)

    afterAll(() => {
      if (app !== '') removeDir(app)
      if (plan.skip === undefined) removeDir(plan.packDir)
    })

    describe.concurrent.each(samples)('$id ($readme, line $line)', (sample) => {
      if (sample.language === 'ts') {
        check(`${sample.id} compiles`, () => {
          expect(diagnostics.get(sampleFiles(sample).source) ?? []).toEqual([])
        })
      }

      check(`${sample.id} runs`, async () => {
        const { file, cwd } = sampleFiles(sample)
        mkdirSync(cwd, { recursive: true })
        writeFileSync(join(cwd, 'clients.json'), fixtures.clients)
        writeFileSync(join(cwd, 'es256.pem'), fixtures.pem)
        writeFileSync(join(cwd, 'keys.json'), fixtures.keys, { mode: 0o600 })
        writeFileSync(join(cwd, 'signing-keys.json'), fixtures.keys, { mode: 0o600 })
        const driver = DRIVERS[sample.id]
        const standIns: Record<string, Listening> = {}
        try {
          for (const origin of driver?.standIns ?? []) {
            const [client] = JSON.parse(fixtures.clients) as [Client]
            const key = generateSigningKey('ES256')
            standIns[origin] = await listenOnEphemeralPort(() => {
              const stand = express()
              stand.use(
                tokenEndpoint({
                  issuer: origin,
                  clients: staticClientStore([client]),
                  keys: [key],
                }),
              )
              return stand
            })
          }
          const hosts = Object.fromEntries(
            Object.entries(standIns).map(([origin, server]) => [origin, server.url]),
          )
          await withSample(
            { runner: join(app, 'run-sample.mjs'), file, cwd, hosts },
            async (run) =>
              driver ? driver.check(run, { secret: fixtures.secret, standIns }) : defaultCheck(run),
          )
        } finally {
          await Promise.all(Object.values(standIns).map((server) => server.close()))
        }
      })
    })

    describe.concurrent('type checks under the same tsconfig', () => {
      check('an option typo fails to compile, naming the option and the nearest one', () => {
        const errors = (diagnostics.get('checks/option-typo.ts') ?? []).join('\n')
        expect(errors).toMatch(/'audiance'.*'audience'/)
      })

      check('options read from the environment compile', () => {
        expect(diagnostics.get('checks/env-options.ts') ?? []).toEqual([])
      })

      check('a number as a private key fails to compile', () => {
        expect(diagnostics.get('checks/private-key-type.ts') ?? []).toEqual([])
      })
    })

    describe.concurrent('the mistakes of the first hour, and what the messages say', () => {
      check('an option typo names the option and the nearest one', async () => {
        const { result } = await program('messages.mjs')
        expect(result.guardTypo).toMatch(/^requireToken: .*"audiance".*"audience"/)
        expect(result.endpointTypo).toMatch(/^tokenEndpoint: .*"issuerr".*"issuer"/)
      })

      check('a client-record typo names the field and the nearest one', async () => {
        const { result } = await program('messages.mjs')
        expect(result.recordTypo).toMatch(/"audiances".*"audiences"/)
      })

      check('a missing issuer names the option', async () => {
        const { result } = await program('messages.mjs')
        expect(result.endpointNoIssuer).toMatch(/^tokenEndpoint: .*"issuer".*required/)
        expect(result.guardNoIssuer).toMatch(/^requireToken: .*"issuer".*required/)
      })

      check('an old client-record field names the field to use', async () => {
        const { result } = await program('messages.mjs')
        expect(result.oldRecordField).toMatch(/client_secret_hash.*secrets/)
      })

      check('a missing clients file is one line naming the resolved path', async () => {
        const { result } = await program('messages.mjs')
        expect(result.missingFile).toContain(join(result.cwd as string, 'no-such-clients.json'))
        expect(result.missingFile).not.toContain('\n')
      })

      check('an issuer with a trailing slash is refused or warned about', async () => {
        const { result, stderr } = await program('warnings.mjs')
        const said = `${(result.trailingSlash as string | null) ?? ''}\n${stderr}`
        expect(said).toMatch(/slash|end with "\/"|https:\/\/auth\.example\.com\//i)
      })

      check('a private key handed to the guard is refused or warned about', async () => {
        const { result, stderr } = await program('warnings.mjs')
        expect(`${(result.privateKey as string | null) ?? ''}\n${stderr}`).toMatch(/private/i)
      })

      check('a CLI typo names the flag or command to use', async () => {
        const flag = await ccflow(['keygen', '--algg', 'ES256'], app)
        expect(flag.code).toBe(2)
        expect(flag.stderr).toContain('--alg')
        const command = await ccflow(['secrt'], app)
        expect(command.code).toBe(2)
        expect(command.stderr).toContain('secret')
      })

      check(
        'an audience mismatch answers 401 wrong_audience, echoing neither audience',
        async () => {
          const { result } = await program('audience.mjs')
          for (const answer of result.answers as { status: number; body: string }[]) {
            expect(answer.status).toBe(401)
            expect(JSON.parse(answer.body)).toMatchObject({ reason: 'wrong_audience' })
            expect(answer.body).not.toContain('api.example')
          }
        },
      )

      check('an audience mismatch is logged once, naming both audiences', async () => {
        const { stderr } = await program('audience.mjs')
        const lines = linesWith(stderr, 'https://api.example/orders')
        expect(lines).toHaveLength(1)
        expect(lines[0]).toContain('https://api.example/reports')
      })

      check(
        'an issuer mismatch found by discovery answers 503 and rejects guard.ready',
        async () => {
          const { result } = await program('issuer-discovery.mjs')
          for (const answer of result.answers as { status: number; body: string }[]) {
            expect(answer.status).toBe(503)
            expect(JSON.parse(answer.body)).toMatchObject({ reason: 'key_source_unavailable' })
          }
          expect(result.readyError).toEqual(expect.any(String))
        },
      )

      check(
        'an issuer mismatch found by discovery is logged once, with the URL and both issuers',
        async () => {
          const { result, stderr } = await program('issuer-discovery.mjs')
          const lines = linesWith(stderr, result.actual as string)
          expect(lines).toHaveLength(1)
          expect(lines[0]).toContain(result.claimed as string)
          expect(lines[0]).toContain('/.well-known/')
        },
      )

      check('a token from another issuer answers 401 wrong_issuer', async () => {
        const { result } = await program('issuer-static.mjs')
        for (const answer of result.answers as { status: number; body: string }[]) {
          expect(answer.status).toBe(401)
          expect(JSON.parse(answer.body)).toMatchObject({ reason: 'wrong_issuer' })
        }
      })

      check('a token from another issuer is logged once, naming both issuers', async () => {
        const { result, stderr } = await program('issuer-static.mjs')
        const lines = linesWith(stderr, result.actual as string)
        expect(lines).toHaveLength(1)
        expect(lines[0]).toContain(result.claimed as string)
      })

      check(
        'a secret hashed with a pepper the endpoint lacks answers 401 invalid_client',
        async () => {
          const { result } = await program('pepper.mjs')
          for (const answer of result.answers as { status: number; body: unknown }[]) {
            expect(answer).toMatchObject({ status: 401, body: { error: 'invalid_client' } })
          }
        },
      )

      check(
        'a secret hashed with a pepper the endpoint lacks is logged once, naming secretPepper',
        async () => {
          const { stderr } = await program('pepper.mjs')
          expect(linesWith(stderr, 'secretPepper')).toHaveLength(1)
        },
      )

      check('issuer and guard in one app: the first request after listen is served', async () => {
        const { result } = await program('same-app.mjs')
        expect(result.first).toMatchObject({ status: 200 })
      })

      check('a ccflow keygen file loads as the issuer keys', async () => {
        const { result } = await program('keygen-keys.mjs')
        expect(result.message).toBeNull()
      })

      check('the CLI runs as the READMEs say: npx -p @ccflow/cli ccflow (offline)', async () => {
        const ran = await runCommand('npx', ['-p', '@ccflow/cli', 'ccflow', '--help'], {
          cwd: app,
          env: cleanEnv({ npm_config_offline: 'true' }),
        })
        expect(ran.code, ran.stderr).toBe(0)
        expect(ran.stdout).toContain('Usage: ccflow')
      })
    })
  },
)
