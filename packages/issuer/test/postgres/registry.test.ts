import { generateKeyPairSync } from 'node:crypto'
import type pg from 'pg'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  type Client,
  hashClientSecret,
  parseSecretId,
  verifyClientSecret,
} from '../../src/index.js'
import {
  type ClientRegistry,
  migrate,
  postgresClientRegistry,
  RegistryError,
} from '../../src/postgres.js'
import { createTestDatabase, skipWithoutPostgres, type TestDatabase } from './helpers.js'

const skip = await skipWithoutPostgres()
const PEPPER = 'a pepper of at least thirty-two bytes, for tests'
const AUDIENCE = 'https://api.example.com'

const base = { scope: 'invoices:read invoices:write', audiences: [AUDIENCE] }

async function refusal(promise: Promise<unknown>): Promise<RegistryError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  )
  if (!RegistryError.is(error)) throw new Error(`expected a RegistryError, got ${String(error)}`)
  return error
}

describe.skipIf(skip)('postgresClientRegistry', () => {
  let db: TestDatabase
  let pool: pg.Pool
  let registry: ClientRegistry

  beforeAll(async () => {
    db = await createTestDatabase()
    pool = db.pool({ max: 10 })
    await migrate(pool)
    registry = postgresClientRegistry({ pool, actor: 'alice@example.com', secretPepper: PEPPER })
  })
  afterAll(() => db?.drop())
  beforeEach(async () => {
    await pool.query('TRUNCATE ccflow_clients, ccflow_client_secrets, ccflow_audit')
  })

  describe('options', () => {
    it('throws a TypeError naming a misspelt option', () => {
      expect(() => postgresClientRegistry({ pool, actr: 'x' } as never)).toThrow(
        'postgresClientRegistry: unknown option "actr" (did you mean "actor"?)',
      )
    })

    it('throws a TypeError without a pool', () => {
      expect(() => postgresClientRegistry({} as never)).toThrow(/option "pool" is required/)
    })

    it('throws a TypeError for an empty actor or a short pepper', () => {
      expect(() => postgresClientRegistry({ pool, actor: '' })).toThrow(/option "actor"/)
      expect(() => postgresClientRegistry({ pool, secretPepper: 'short' })).toThrow(
        /option "secretPepper" must be a string of at least 32 bytes/,
      )
    })

    it('answers schema_mismatch, saying to run ccflow db migrate, on a database without the tables', async () => {
      const empty = await createTestDatabase()
      try {
        const bare = postgresClientRegistry({ pool: empty.pool() })
        const error = await refusal(bare.list())
        expect(error.code).toBe('schema_mismatch')
        expect(error.message).toMatch(/the ccflow tables are missing: run `ccflow db migrate`/)
        expect(await refusal(bare.create({ client_id: 'c', ...base }))).toMatchObject({
          code: 'schema_mismatch',
        })
      } finally {
        await empty.drop()
      }
    })

    it('rejects (never throws) for a malformed id', async () => {
      const pending = registry.disable('')
      expect(pending).toBeInstanceOf(Promise)
      expect(await refusal(pending)).toMatchObject({ code: 'invalid_client_record' })
    })

    it('passes other database errors on as they are', async () => {
      const broken = postgresClientRegistry({
        pool: {
          query: () => Promise.reject(new Error('boom')),
          connect: () => Promise.reject(new Error('boom')),
        },
      })
      await expect(broken.list()).rejects.toThrow('boom')
    })

    it('records "unknown" as the actor by default', async () => {
      await postgresClientRegistry({ pool }).create({ client_id: 'anon', ...base })
      expect((await registry.audit('anon'))[0]).toMatchObject({ actor: 'unknown' })
    })
  })

  describe('create', () => {
    it('generates a secret, returns it once and stores only its peppered hash', async () => {
      const { client, secret } = await registry.create({ client_id: 'billing', ...base })
      expect(secret).toMatch(/^ccs_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/)
      const hash = client.secrets?.[0]?.hash as string
      expect(client.secrets).toEqual([{ id: parseSecretId(secret as string), hash }])
      expect(await verifyClientSecret(secret as string, hash, { pepper: PEPPER })).toBe(true)
      expect(await verifyClientSecret(secret as string, hash)).toBe(false)
      const dump = await pool.query(
        `SELECT (SELECT json_agg(c) FROM ccflow_clients c)::text || (SELECT json_agg(s) FROM ccflow_client_secrets s)::text || (SELECT json_agg(a) FROM ccflow_audit a)::text AS text`,
      )
      expect((dump.rows[0] as { text: string }).text).not.toContain(secret)
      expect(await registry.get('billing')).toEqual(client)
    })

    it('writes a created audit row with the metadata and the secret id, never the hash', async () => {
      const { client } = await registry.create({ client_id: 'billing', client_name: 'B', ...base })
      const entries = await registry.audit('billing')
      expect(entries).toEqual([
        {
          at: expect.any(Date) as Date,
          actor: 'alice@example.com',
          action: 'created',
          client_id: 'billing',
          detail: {
            metadata: { client_name: 'B', ...base },
            disabled: false,
            secret_ids: [client.secrets?.[0]?.id],
          },
        },
      ])
      expect(JSON.stringify(entries)).not.toContain('$hmac-sha256$')
    })

    it('registers a private_key_jwt client from its jwks without a secret', async () => {
      const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
        format: 'jwk',
      })
      const result = await registry.create({ client_id: 'signer', ...base, jwks: { keys: [jwk] } })
      expect(result.secret).toBeUndefined()
      expect(result.client).toMatchObject({ token_endpoint_auth_method: 'private_key_jwt' })
      expect(result.client.secrets).toBeUndefined()
      expect(await registry.get('signer')).toEqual(result.client)
    })

    it('stores a client created disabled with its flag', async () => {
      await registry.create({ client_id: 'off', ...base, disabled: true })
      expect(await registry.get('off')).toMatchObject({ disabled: true })
    })

    it('refuses an id that is registered already with client_exists', async () => {
      await registry.create({ client_id: 'billing', ...base })
      const error = await refusal(registry.create({ client_id: 'billing', ...base }))
      expect(error.code).toBe('client_exists')
      expect(await registry.audit('billing')).toHaveLength(1)
    })

    it('refuses an invalid record with invalid_client_record naming the field', async () => {
      const error = await refusal(
        registry.create({ client_id: 'x', scope: 'a "b"', audiences: [] }),
      )
      expect(error).toMatchObject({ code: 'invalid_client_record' })
      expect(error.message).toMatch(/client \(client_id "x"\)\.scope/)
      expect(await refusal(registry.create(null as never))).toMatchObject({
        code: 'invalid_client_record',
      })
    })

    it('refuses secrets in the input: it generates them', async () => {
      const error = await refusal(
        registry.create({ client_id: 'x', ...base, secrets: [] } as unknown as Client),
      )
      expect(error).toMatchObject({ code: 'invalid_client_record' })
      expect(error.message).toMatch(/client\.secrets cannot be given/)
    })
  })

  describe('list and get', () => {
    it('lists every client ordered by id', async () => {
      await registry.create({ client_id: 'b', ...base })
      await registry.create({ client_id: 'a', ...base })
      expect((await registry.list()).map((client) => client.client_id)).toEqual(['a', 'b'])
    })

    it('gets nothing for an unknown or malformed id', async () => {
      expect(await registry.get('nobody')).toBeUndefined()
      expect(await registry.get('\n')).toBeUndefined()
      expect(await registry.get(42 as never)).toBeUndefined()
    })
  })

  describe('update', () => {
    it('changes the fields given, removes those set to null and audits from/to', async () => {
      await registry.create({ client_id: 'c', client_name: 'Old', ...base, access_token_ttl: 60 })
      const updated = await registry.update('c', {
        scope: 'invoices:read',
        client_name: null,
        access_token_ttl: 300,
        default_audience: undefined,
      })
      expect(updated).toMatchObject({ scope: 'invoices:read', access_token_ttl: 300 })
      expect(updated.client_name).toBeUndefined()
      expect(await registry.get('c')).toEqual(updated)
      const [, entry] = await registry.audit('c')
      expect(entry).toMatchObject({
        action: 'updated',
        detail: {
          changes: {
            scope: { from: base.scope, to: 'invoices:read' },
            client_name: { from: 'Old', to: null },
            access_token_ttl: { from: 60, to: 300 },
          },
        },
      })
    })

    it('refuses a field it does not change, suggesting the nearest one', async () => {
      await registry.create({ client_id: 'c', ...base })
      const error = await refusal(registry.update('c', { scopes: 'a' } as never))
      expect(error).toMatchObject({ code: 'invalid_client_record' })
      expect(error.message).toMatch(/changes\.scopes cannot be changed.*did you mean "scope"/)
    })

    it('refuses removing scope or audiences, and changes that make the record invalid', async () => {
      await registry.create({ client_id: 'c', ...base })
      expect((await refusal(registry.update('c', { audiences: null as never }))).message).toMatch(
        /changes\.audiences cannot be removed/,
      )
      const error = await refusal(registry.update('c', { default_audience: 'https://other' }))
      expect(error.message).toMatch(/default_audience must be one of audiences/)
      expect(await refusal(registry.update('c', [] as never))).toMatchObject({
        code: 'invalid_client_record',
      })
      expect(await registry.audit('c')).toHaveLength(1)
    })

    it('answers client_not_found for an unknown id and invalid_client_record for a bad one', async () => {
      expect(await refusal(registry.update('nobody', { scope: 'a' }))).toMatchObject({
        code: 'client_not_found',
      })
      expect(await refusal(registry.update('', { scope: 'a' }))).toMatchObject({
        code: 'invalid_client_record',
      })
    })
  })

  describe('addSecret', () => {
    it('adds a second secret with an expiry beside the first', async () => {
      const { client } = await registry.create({ client_id: 'c', ...base })
      const expiresAt = Math.floor(Date.now() / 1000) + 3600
      const { secretId, secret } = await registry.addSecret('c', { expiresAt })
      expect(parseSecretId(secret)).toBe(secretId)
      const stored = await registry.get('c')
      expect(stored?.secrets?.map((s) => [s.id, s.expires_at])).toEqual([
        [client.secrets?.[0]?.id, undefined],
        [secretId, expiresAt],
      ])
      expect((await registry.audit('c'))[1]).toMatchObject({
        action: 'secret_added',
        detail: { secret_id: secretId, expires_at: expiresAt },
      })
    })

    it('refuses an expiry in the past, in milliseconds, or an unknown option', async () => {
      await registry.create({ client_id: 'c', ...base })
      for (const options of [
        { expiresAt: 1 },
        { expiresAt: Date.now() + 60_000 },
        { expiresAt: 1.5 },
      ]) {
        expect(await refusal(registry.addSecret('c', options))).toMatchObject({
          code: 'invalid_client_record',
        })
      }
      const error = await refusal(registry.addSecret('c', { expires: 1 } as never))
      expect(error.message).toMatch(/unknown option "expires".*did you mean "expiresAt"/)
      expect(await refusal(registry.addSecret('c', 'x' as never))).toMatchObject({
        code: 'invalid_client_record',
      })
    })

    it('refuses a private_key_jwt client and an unknown one', async () => {
      await registry.create({ client_id: 'k', ...base, jwks_uri: 'https://k.example/jwks' })
      expect((await refusal(registry.addSecret('k'))).message).toMatch(/uses private_key_jwt/)
      expect(await refusal(registry.addSecret('nobody'))).toMatchObject({
        code: 'client_not_found',
      })
    })
  })

  describe('revokeSecret', () => {
    it('revokes a secret: it leaves the record and the audit names it', async () => {
      const { client } = await registry.create({ client_id: 'c', ...base })
      const first = client.secrets?.[0]?.id as string
      const { secretId } = await registry.addSecret('c')
      await registry.revokeSecret('c', first)
      expect((await registry.get('c'))?.secrets?.map((s) => s.id)).toEqual([secretId])
      expect((await registry.audit('c'))[2]).toMatchObject({
        action: 'secret_revoked',
        detail: { secret_id: first },
      })
      expect(await refusal(registry.revokeSecret('c', first))).toMatchObject({
        code: 'secret_not_found',
      })
    })

    it('refuses to revoke the last unexpired secret', async () => {
      const { client } = await registry.create({ client_id: 'c', ...base })
      const error = await refusal(registry.revokeSecret('c', client.secrets?.[0]?.id as string))
      expect(error).toMatchObject({ code: 'last_secret' })
    })

    it('revokes an expired secret, and counts no expired secret as a remaining one', async () => {
      const { client } = await registry.create({ client_id: 'c', ...base })
      const { secretId } = await registry.addSecret('c', {
        expiresAt: Math.floor(Date.now() / 1000) + 3600,
      })
      await pool.query(
        "UPDATE ccflow_client_secrets SET expires_at = now() - interval '1 hour' WHERE secret_id = $1",
        [secretId],
      )
      expect(
        await refusal(registry.revokeSecret('c', client.secrets?.[0]?.id as string)),
      ).toMatchObject({ code: 'last_secret' })
      await registry.revokeSecret('c', secretId)
      expect((await registry.get('c'))?.secrets).toHaveLength(1)
    })

    it('refuses a malformed secret id and an unknown client', async () => {
      await registry.create({ client_id: 'c', ...base })
      expect(await refusal(registry.revokeSecret('c', "x'; --"))).toMatchObject({
        code: 'invalid_client_record',
      })
      expect(await refusal(registry.revokeSecret('nobody', 'abc'))).toMatchObject({
        code: 'client_not_found',
      })
    })
  })

  describe('disable, enable and delete', () => {
    it('disables and enables a client, auditing only real changes', async () => {
      await registry.create({ client_id: 'c', ...base })
      await registry.disable('c')
      await registry.disable('c')
      expect(await registry.get('c')).toMatchObject({ disabled: true })
      await registry.enable('c')
      expect((await registry.get('c'))?.disabled).toBeUndefined()
      expect((await registry.audit('c')).map((e) => e.action)).toEqual([
        'created',
        'disabled',
        'enabled',
      ])
      expect(await refusal(registry.disable('nobody'))).toMatchObject({ code: 'client_not_found' })
    })

    it('deletes a client and its secrets but keeps its audit trail', async () => {
      await registry.create({ client_id: 'c', ...base })
      await registry.delete('c')
      expect(await registry.get('c')).toBeUndefined()
      const { rows } = await pool.query('SELECT count(*)::int AS n FROM ccflow_client_secrets')
      expect(rows).toEqual([{ n: 0 }])
      expect((await registry.audit('c')).map((e) => e.action)).toEqual(['created', 'deleted'])
      expect(await refusal(registry.delete('c'))).toMatchObject({ code: 'client_not_found' })
    })
  })

  describe('importClients', () => {
    const fileRecord = async (clientId: string): Promise<Client> => ({
      client_id: clientId,
      ...base,
      secrets: [
        { id: 'k1', hash: await hashClientSecret('a human-chosen secret') },
        { id: 'k2', hash: await hashClientSecret('ccs_k2_' + 'x'.repeat(43)), expires_at: 4e9 },
      ],
    })

    it('imports CLIENTS_FILE records with their hashes and audits each', async () => {
      const keyClient: Client = {
        client_id: 'signer',
        ...base,
        token_endpoint_auth_method: 'private_key_jwt',
        jwks_uri: 'https://signer.example/jwks',
      }
      const records = [
        await fileRecord('one'),
        { ...(await fileRecord('two')), disabled: true },
        keyClient,
      ]
      expect(await registry.importClients(records)).toEqual({ imported: ['one', 'two', 'signer'] })
      expect(await registry.get('signer')).toEqual(keyClient)
      expect(await registry.get('one')).toEqual(records[0])
      expect(await registry.get('two')).toEqual(records[1])
      expect(await registry.audit('two')).toMatchObject([
        { action: 'imported', detail: { disabled: true, secret_ids: ['k1', 'k2'] } },
      ])
    })

    it('imports nothing when one id is registered already', async () => {
      await registry.create({ client_id: 'two', ...base })
      const error = await refusal(
        registry.importClients([await fileRecord('one'), await fileRecord('two')]),
      )
      expect(error).toMatchObject({ code: 'client_exists' })
      expect(await registry.get('one')).toBeUndefined()
    })

    it('refuses an invalid record naming its position, a duplicate id and a non-array', async () => {
      const good = await fileRecord('one')
      const bad = await refusal(
        registry.importClients([good, { ...good, client_id: 'x', scope: 1 } as never]),
      )
      expect(bad.message).toMatch(/^clients\[1\] \(client_id "x"\)\.scope/)
      const twice = await refusal(registry.importClients([good, good]))
      expect(twice.message).toBe('clients[1]: duplicate client_id "one"')
      expect(await refusal(registry.importClients({} as never))).toMatchObject({
        code: 'invalid_client_record',
      })
      expect(await registry.list()).toEqual([])
    })
  })

  describe('audit', () => {
    it('lists every client’s entries oldest first without a filter', async () => {
      await registry.create({ client_id: 'a', ...base })
      await registry.create({ client_id: 'b', ...base })
      await registry.disable('a')
      expect((await registry.audit()).map((e) => [e.client_id, e.action])).toEqual([
        ['a', 'created'],
        ['b', 'created'],
        ['a', 'disabled'],
      ])
    })
  })

  describe('concurrency', () => {
    it('leaves a consistent record after 100 parallel addSecret and revokeSecret calls', async () => {
      const { client } = await registry.create({ client_id: 'busy', ...base })
      const existing = [client.secrets?.[0]?.id as string]
      for (let i = 0; i < 49; i++) existing.push((await registry.addSecret('busy')).secretId)
      const results = await Promise.allSettled([
        ...existing.map((id) => registry.revokeSecret('busy', id)),
        ...existing.map(() => registry.addSecret('busy')),
      ])
      const revoked = existing.filter((_, i) => results[i]?.status === 'fulfilled')
      const refused = results.filter((r) => r.status === 'rejected')
      // Only a revocation that found no other secret may be refused, and only as last_secret.
      for (const r of refused) expect(r.reason).toMatchObject({ code: 'last_secret' })
      expect(results.slice(50).every((r) => r.status === 'fulfilled')).toBe(true)
      const added = results
        .slice(50)
        .map((r) => (r as PromiseFulfilledResult<{ secretId: string }>).value.secretId)

      const active = (await registry.get('busy'))?.secrets?.map((s) => s.id).sort()
      const expected = [...existing.filter((id) => !revoked.includes(id)), ...added].sort()
      expect(active).toEqual(expected)
      expect(new Set(active).size).toBe(active?.length)
      const actions = (await registry.audit('busy')).map((e) => e.action)
      expect(actions.filter((a) => a === 'secret_revoked')).toHaveLength(revoked.length)
      expect(actions.filter((a) => a === 'secret_added')).toHaveLength(49 + 50)
      const { rows } = await pool.query(
        'SELECT count(*)::int AS n FROM ccflow_client_secrets WHERE revoked_at IS NOT NULL',
      )
      expect(rows).toEqual([{ n: revoked.length }])
    })
  })

  describe('SQL injection', () => {
    const payload = "x'); DROP TABLE ccflow_clients; --"

    it('stores injection attempts in every field as data', async () => {
      const sneaky = postgresClientRegistry({ pool, actor: payload })
      const input = {
        client_id: payload,
        client_name: `${payload} "\\ \\0`,
        scope: "a';DROP b--",
        default_scope: "a';DROP",
        audiences: [`https://x.example/'); DELETE FROM ccflow_audit; --`],
        access_token_ttl: 60,
      }
      const { client } = await sneaky.create(input)
      await sneaky.update(payload, { client_name: `${payload}2` })
      await sneaky.addSecret(payload)
      await sneaky.disable(payload)
      expect(await sneaky.get(payload)).toMatchObject({ ...input, client_name: `${payload}2` })
      expect((await sneaky.list()).map((c) => c.client_id)).toEqual([payload])
      expect((await sneaky.audit(payload)).map((e) => e.actor)).toEqual(Array(4).fill(payload))
      await sneaky.revokeSecret(payload, client.secrets?.[0]?.id as string)
      await sneaky.delete(payload)
      const { rows } = await pool.query(
        "SELECT count(*)::int AS n FROM pg_tables WHERE tablename LIKE 'ccflow_%'",
      )
      expect(rows).toEqual([{ n: 4 }])
    })

    it('refuses a NUL character, which PostgreSQL cannot store, naming the field', async () => {
      const error = await refusal(registry.create({ client_id: 'c', ...base, client_name: 'a\0' }))
      expect(error.message).toBe('client.client_name must not contain U+0000')
      const nested = await refusal(
        registry.create({ client_id: 'c', ...base, audiences: ['a', 'b\0'] }),
      )
      expect(nested.message).toBe('client.audiences[1] must not contain U+0000')
    })

    it('refuses what cannot be a valid value instead of running it', async () => {
      const error = await refusal(registry.revokeSecret('c', "k1' OR '1'='1"))
      expect(error).toMatchObject({ code: 'invalid_client_record' })
      expect(await registry.get("' OR '1'='1")).toBeUndefined()
      await registry.create({ client_id: 'real', ...base })
      expect(await registry.get("real' --")).toBeUndefined()
      expect(await registry.audit("' OR 1=1 --")).toEqual([])
    })
  })
})
