import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { ROOT } from './processes.js'
import { IN_CI } from './redis.js'

/** What a command printed and how it ended (it never throws). */
export interface CommandResult {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * The environment for npm and the programs: ours, without the variables pnpm sets for the script
 * that runs the tests (they describe this repository, not the app).
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(npm_(package|lifecycle|execpath|node_execpath|command)|pnpm_|VITEST)/i.test(name))
      continue
    if (
      ['npm_config_user_agent', 'NODE_ENV', 'NODE_OPTIONS', 'NODE_V8_COVERAGE', 'TEST'].includes(
        name,
      )
    )
      continue
    env[name] = value
  }
  return { ...env, ...extra }
}

/** Runs `command` to completion, with a time limit, and reports its output. */
export function runCommand(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      {
        cwd: options.cwd,
        env: options.env ?? cleanEnv(),
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null
        resolve({
          code,
          stdout,
          stderr: error && code === null ? `${stderr}${error.message}` : stderr,
        })
      },
    )
  })
}

/** One packed package: its tarball and the package.json inside it (workspace ranges rewritten). */
export interface Tarball {
  name: string
  file: string
  manifest: Record<string, unknown>
}

/** The publishable packages: every packages/* that is not private. */
function publishableDirs(): string[] {
  return readdirSync(join(ROOT, 'packages'))
    .map((name) => join(ROOT, 'packages', name))
    .filter((dir) => {
      const file = join(dir, 'package.json')
      return (
        existsSync(file) &&
        (JSON.parse(readFileSync(file, 'utf8')) as { private?: boolean }).private !== true
      )
    })
}

/** `pnpm pack` in each publishable package, into `dest`: what `pnpm publish` would upload. */
async function packWorkspace(dest: string): Promise<Tarball[]> {
  const tarballs: Tarball[] = []
  for (const dir of publishableDirs()) {
    const packed = await runCommand('pnpm', ['pack', '--pack-destination', dest, '--json'], {
      cwd: dir,
      env: cleanEnv(),
    })
    if (packed.code !== 0) throw new Error(`pnpm pack in ${dir} failed:\n${packed.stderr}`)
    const { name, filename } = JSON.parse(packed.stdout) as { name: string; filename: string }
    const inside = await runCommand('tar', ['-xzOf', filename, 'package/package.json'], {
      cwd: dest,
    })
    if (inside.code !== 0)
      throw new Error(`cannot read package.json in ${filename}:\n${inside.stderr}`)
    tarballs.push({
      name,
      file: filename,
      manifest: JSON.parse(inside.stdout) as Record<string, unknown>,
    })
  }
  return tarballs
}

/**
 * The cache key of an npm install: what decides the third-party tree npm resolves. That is the
 * tarballs' dependency lists (not their code, which is replaced on every run), the pinned
 * registry packages, and the platform (TypeScript 7 installs a native binary per platform).
 */
function installKey(tarballs: Tarball[], pins: Record<string, string>): string {
  const fields = [
    'name',
    'version',
    'bin',
    'dependencies',
    'peerDependencies',
    'peerDependenciesMeta',
    'optionalDependencies',
  ]
  const packages = [...tarballs]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((t) => Object.fromEntries(fields.map((field) => [field, t.manifest[field] ?? null])))
  const what = {
    packages,
    pins,
    platform: process.platform,
    arch: process.arch,
    node: process.versions.node.split('.')[0],
  }
  return createHash('sha256').update(JSON.stringify(what)).digest('hex').slice(0, 16)
}

/** Where cached installs live: outside the repository, so nothing resolves from its node_modules. */
const CACHE_ROOT = join(tmpdir(), 'ccflow-readme-samples')
const MARK = 'installed.json'
const UNUSED_FOR_MS = 7 * 24 * 3600 * 1000

/** The cached install for `key`, or where it will go. */
function cacheDir(key: string): string {
  return join(CACHE_ROOT, key)
}

/** Whether an install for `key` is cached (a finished one: installs are moved in whole). */
function isCached(key: string): boolean {
  return existsSync(join(cacheDir(key), MARK))
}

/**
 * Why the npm registry cannot be used, or undefined when it answers. Asked with `npm ping`, so
 * npm's own configuration (registry, proxy, credentials) applies.
 */
async function registryUnreachableReason(): Promise<string | undefined> {
  const ping = await runCommand('npm', ['ping', '--fetch-timeout=5000', '--fetch-retries=0'], {
    cwd: tmpdir(),
    timeoutMs: 20_000,
  })
  if (ping.code === 0) return undefined
  const why = `${ping.stderr}${ping.stdout}`.split('\n').find((line) => /error|ERR/i.test(line))
  return `npm ping failed (${(why ?? `exit ${ping.code}`).trim()})`
}

/**
 * Installs the tarballs and `pins` with npm into a new app and caches it under `key`: the
 * install that a user's `npm install` would make. Skipped when already cached.
 */
export async function installIntoCache(
  plan: Exclude<PackedAppPlan, { skip: string }>,
  pins: Record<string, string>,
): Promise<void> {
  const { key, tarballs } = plan
  if (isCached(key)) return
  if (plan.unreachable !== undefined) throw new Error(plan.unreachable)
  mkdirSync(CACHE_ROOT, { recursive: true })
  const staging = mkdtempSync(join(CACHE_ROOT, `${key}.tmp-`))
  try {
    writeFileSync(
      join(staging, 'package.json'),
      `${JSON.stringify({ name: 'readme-samples-app', private: true, type: 'module' }, null, 2)}\n`,
    )
    mkdirSync(join(staging, 'tarballs'))
    for (const t of tarballs) copyFileSync(t.file, join(staging, 'tarballs', basename(t.file)))
    const specs = [
      ...tarballs.map((t) => `./tarballs/${basename(t.file)}`),
      ...Object.entries(pins).map(([name, version]) => `${name}@${version}`),
    ]
    const install = await runCommand(
      'npm',
      ['install', '--save-exact', '--no-audit', '--no-fund', '--loglevel=error', ...specs],
      { cwd: staging, timeoutMs: 300_000 },
    )
    if (install.code !== 0) {
      throw new Error(`npm install in ${staging} failed (exit ${install.code}):\n${install.stderr}`)
    }
    writeFileSync(join(staging, MARK), `${JSON.stringify({ key, specs }, null, 2)}\n`)
    try {
      renameSync(staging, cacheDir(key))
    } catch (err) {
      // Another run cached the same key first: use its install.
      if (!isCached(key)) throw err
    }
  } finally {
    rmSync(staging, { recursive: true, force: true })
  }
  evictUnused(key)
}

/** Removes cached installs of other keys that no run has used for a week. */
function evictUnused(keep: string): void {
  for (const name of readdirSync(CACHE_ROOT)) {
    if (name === keep) continue
    const dir = join(CACHE_ROOT, name)
    const mark = join(dir, MARK)
    const used = existsSync(mark) ? statSync(mark).mtimeMs : statSync(dir).mtimeMs
    if (Date.now() - used > UNUSED_FOR_MS) rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * Makes a fresh app in `dir` from the cached install of `key`: third-party packages are links
 * into the cache (read only), and the `@ccflow/*` packages are this run's tarballs, unpacked
 * where npm put them. Same dependency lists (the key) means the same tree npm would install.
 */
export async function assembleApp(
  { key, tarballs }: Exclude<PackedAppPlan, { skip: string }>,
  dir: string,
): Promise<void> {
  const cache = cacheDir(key)
  const now = new Date()
  utimesSync(join(cache, MARK), now, now)
  const modules = join(dir, 'node_modules')
  mkdirSync(join(modules, '.bin'), { recursive: true })
  for (const entry of readdirSync(join(cache, 'node_modules'))) {
    if (entry === '@ccflow' || entry.startsWith('.')) continue
    symlinkSync(join(cache, 'node_modules', entry), join(modules, entry), 'dir')
  }
  // .bin holds relative links (../typescript/bin/tsc): recreated here, they reach this app's
  // packages, so `ccflow` is this run's CLI.
  const bin = join(cache, 'node_modules', '.bin')
  for (const name of existsSync(bin) ? readdirSync(bin) : []) {
    symlinkSync(readlinkSync(join(bin, name)), join(modules, '.bin', name))
  }
  copyFileSync(join(cache, 'package.json'), join(dir, 'package.json'))
  mkdirSync(join(dir, 'tarballs'))
  for (const t of tarballs) {
    copyFileSync(t.file, join(dir, 'tarballs', basename(t.file)))
    const target = join(modules, ...t.name.split('/'))
    mkdirSync(target, { recursive: true })
    const unpacked = await runCommand(
      'tar',
      ['-xzf', t.file, '-C', target, '--strip-components=1'],
      {
        cwd: dir,
      },
    )
    if (unpacked.code !== 0) throw new Error(`cannot unpack ${t.file}:\n${unpacked.stderr}`)
    const nested = join(cache, 'node_modules', ...t.name.split('/'), 'node_modules')
    if (existsSync(nested)) symlinkSync(nested, join(target, 'node_modules'), 'dir')
  }
}

/**
 * A packed-tarball app for one test run, or the reason it cannot be made here. `unreachable`
 * is set under CI when nothing is cached and the registry does not answer: the install is not
 * even tried (npm would retry for minutes), and the suite fails with that reason.
 */
export type PackedAppPlan =
  | { skip: string }
  | {
      skip?: undefined
      key: string
      tarballs: Tarball[]
      packDir: string
      unreachable: string | undefined
    }

/**
 * Packs the workspace and decides whether an app can be installed: from the cache, or from the
 * registry. Outside CI an unreachable registry with nothing cached skips (with the reason); in
 * CI it never skips, so the install fails loudly instead.
 */
export async function planPackedApp(pins: Record<string, string>): Promise<PackedAppPlan> {
  const packDir = mkdtempSync(join(tmpdir(), 'ccflow-packed-'))
  const tarballs = await packWorkspace(packDir)
  const key = installKey(tarballs, pins)
  const reason = isCached(key) ? undefined : await registryUnreachableReason()
  const unreachable =
    reason === undefined
      ? undefined
      : `${reason}, and no npm install is cached for this dependency set (${key})`
  if (unreachable !== undefined && !IN_CI) {
    rmSync(packDir, { recursive: true, force: true })
    return { skip: unreachable }
  }
  return { key, tarballs, packDir, unreachable }
}

/** Removes a run's temporary directory (never the cache). */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}

/** A new temporary directory for one run's app. */
export function makeAppDir(): string {
  return mkdtempSync(join(tmpdir(), 'ccflow-readme-app-'))
}
