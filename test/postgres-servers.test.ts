import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ON_EXPRESS_4, PROCESS_SUITE_SKIP_REASON, basic, tempDir } from './helpers.js'
import { CLI_BIN } from './support/cli.js'
import { createTestDatabase, skipWithoutPostgres, type TestDatabase } from './support/postgres.js'
import { type RunningProcess, ROOT, startTs } from './support/processes.js'

const execFileAsync = promisify(execFile)
const skip = ON_EXPRESS_4 || (await skipWithoutPostgres())
const AUDIENCE = 'https://reports.example'
const LISTENING = /listening on (http:\/\/127\.0\.0\.1:\d+)/

/** Runs the built `ccflow` bin on the test database and resolves with its standard output. */
async function ccflow(databaseUrl: string, args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(process.execPath, [CLI_BIN.esm, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, DATABASE_URL: databaseUrl, USER: 'e2e' },
  })
  return stdout
}

/** The status of one token request by `client_id` with `secret`. */
async function tokenStatus(url: string, clientId: string, secret: string): Promise<number> {
  const res = await fetch(`${url}/token`, {
    method: 'POST',
    headers: { authorization: basic(clientId, secret) },
    body: new URLSearchParams({ grant_type: 'client_credentials' }),
  })
  await res.arrayBuffer()
  return res.status
}

/** Polls every 20 ms until each server answers `status`; resolves with the milliseconds taken. */
async function untilAll(
  urls: string[],
  clientId: string,
  secret: string,
  status: number,
): Promise<number> {
  const started = performance.now()
  const pending = new Set(urls)
  while (pending.size > 0 && performance.now() - started < 10_000) {
    for (const url of [...pending]) {
      if ((await tokenStatus(url, clientId, secret)) === status) pending.delete(url)
    }
    if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 20))
  }
  expect([...pending]).toEqual([])
  return performance.now() - started
}

describe.skipIf(skip)(
  `token servers on one PostgreSQL database, as processes (${PROCESS_SUITE_SKIP_REASON})`,
  () => {
    let db: TestDatabase
    const servers: { proc: RunningProcess; url: string }[] = []
    let secret: string

    beforeAll(async () => {
      db = await createTestDatabase('servers')
      await ccflow(db.url, ['db', 'migrate'])
      const created = JSON.parse(
        await ccflow(db.url, [
          'client',
          'create',
          '--id',
          'reporter',
          '--scope',
          'reports:read',
          '--audience',
          AUDIENCE,
          '--json',
        ]),
      ) as { client_secret: string }
      secret = created.client_secret
      for (let i = 0; i < 2; i++) {
        const proc = startTs('examples/token-server/server.ts', {
          HOST: '127.0.0.1',
          PORT: '0',
          DATABASE_URL: db.url,
        })
        const [, url] = await proc.waitFor(LISTENING)
        servers.push({ proc, url: url as string })
      }
    })
    afterAll(async () => {
      await Promise.all(servers.map((server) => server.proc.stop()))
      await db?.drop()
    })

    it('says at startup that the clients come from PostgreSQL', async () => {
      for (const { proc } of servers) {
        await expect(
          proc.waitFor(/"msg":"clients from PostgreSQL \(DATABASE_URL\)/),
        ).resolves.toBeTruthy()
      }
    })

    it('refuses a client disabled with `ccflow client disable` on both servers within one second, and accepts it again after enable', async () => {
      const urls = servers.map((server) => server.url)
      // Both servers hold the client in their cache (30 s TTL): only the notification evicts it.
      for (const url of urls) expect(await tokenStatus(url, 'reporter', secret)).toBe(200)

      await ccflow(db.url, ['client', 'disable', 'reporter'])
      const refusedMs = await untilAll(urls, 'reporter', secret, 401)
      await ccflow(db.url, ['client', 'enable', 'reporter'])
      const acceptedMs = await untilAll(urls, 'reporter', secret, 200)

      console.info(
        `[postgres-servers] both servers refused the disabled client ${refusedMs.toFixed(0)} ms ` +
          `after \`ccflow client disable\` returned, accepted it ${acceptedMs.toFixed(0)} ms after enable`,
      )
      expect(refusedMs).toBeLessThan(1000)
      expect(acceptedMs).toBeLessThan(1000)
    })

    it('serves a secret added with `ccflow client add-secret` and refuses one revoked at once', async () => {
      const added = JSON.parse(
        await ccflow(db.url, ['client', 'add-secret', 'reporter', '--json']),
      ) as { client_secret: string; secret_id: string }
      const urls = servers.map((server) => server.url)
      await untilAll(urls, 'reporter', added.client_secret, 200)
      await ccflow(db.url, ['client', 'revoke-secret', 'reporter', added.secret_id])
      await untilAll(urls, 'reporter', added.client_secret, 401)
      for (const url of urls) expect(await tokenStatus(url, 'reporter', secret)).toBe(200)
    })

    it('is not ready (database_unreachable) while the database refuses connections, and ready again after', async () => {
      const { url } = servers[0] as { url: string }
      const readiness = async (): Promise<[number, unknown]> => {
        const res = await fetch(`${url}/ready`)
        return [res.status, await res.json()]
      }
      expect((await readiness())[0]).toBe(200)
      await db.allowConnections(false)
      try {
        await until(async () => (await readiness())[0] === 503)
        expect(await readiness()).toEqual([
          503,
          { status: 'not_ready', reasons: ['database_unreachable'] },
        ])
        // The process keeps running: a cached client still gets its token.
        expect(await tokenStatus(url, 'reporter', secret)).toBe(200)
      } finally {
        await db.allowConnections(true)
      }
      await until(async () => (await readiness())[0] === 200)
      await servers[0]?.proc.waitFor(/"level":"warn".*"msg":"database connection lost"/)
    })
  },
)

/** Resolves once `check` holds, polling every 50 ms for at most 10 s. */
async function until(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met within 10 s')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe.skipIf(skip)(
  `token server startup with DATABASE_URL (${PROCESS_SUITE_SKIP_REASON})`,
  () => {
    /** Runs the token server, which should refuse to start; resolves with its code and output. */
    async function startupFailure(
      env: Record<string, string>,
    ): Promise<{ code: number | null; output: string; message: string }> {
      const proc = startTs('examples/token-server/server.ts', {
        HOST: '127.0.0.1',
        PORT: '0',
        ...env,
      })
      if (proc.child.exitCode === null) await once(proc.child, 'exit')
      const output = proc.output()
      // JSON records (a SIGNING_KEYS_FILE warning may come first), one of them fatal: its
      // message is what the operator reads.
      const records = output
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { level?: string; msg?: string })
      const fatal = records.filter((record) => record.level === 'fatal')
      expect(fatal).toHaveLength(1)
      expect(records.at(-1)).toBe(fatal[0])
      const record = fatal[0] as { msg?: string }
      return { code: proc.child.exitCode, output, message: record.msg ?? '' }
    }

    it('refuses to start, in one line, on a database that is not migrated', async () => {
      const empty = await createTestDatabase('servers_empty')
      try {
        const { code, message } = await startupFailure({ DATABASE_URL: empty.url })
        expect(code).toBe(1)
        expect(message).toMatch(
          /^DATABASE_URL postgres:\/\/.*ccflow_servers_empty_\w+: .*version 0.*run `ccflow db migrate`.*$/m,
        )
      } finally {
        await empty.drop()
      }
    })

    it('refuses CLIENTS_FILE beside DATABASE_URL', async () => {
      const dir = tempDir()
      try {
        const { code, message } = await startupFailure({
          DATABASE_URL: 'postgres://127.0.0.1:1/none',
          CLIENTS_FILE: dir.file('clients.json', []),
        })
        expect(code).toBe(1)
        expect(message).toBe(
          'CLIENTS_FILE and DATABASE_URL are both set: clients come from one place. ' +
            'Unset CLIENTS_FILE (copy its clients with `ccflow client import FILE`) or DATABASE_URL',
        )
      } finally {
        dir.remove()
      }
    })

    it('refuses a DATABASE_URL that is not a postgres URL, without echoing it', async () => {
      const { code, output, message } = await startupFailure({
        DATABASE_URL: 'mysql://u:s3cret@db/x',
      })
      expect(code).toBe(1)
      expect(message).toMatch(/^DATABASE_URL must be a postgres:\/\/ or postgresql:\/\/ URL/m)
      expect(output).not.toContain('s3cret')
    })

    it('refuses to start when the database does not answer, naming it without the password', async () => {
      const { code, output, message } = await startupFailure({
        DATABASE_URL: 'postgres://u:s3cret@127.0.0.1:1/x',
      })
      expect(code).toBe(1)
      expect(message).toMatch(/^DATABASE_URL postgres:\/\/u@127\.0\.0\.1:1\/x: .*ECONNREFUSED/m)
      expect(output).not.toContain('s3cret')
    })
  },
)
