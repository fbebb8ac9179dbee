import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { signJws, verifyJwsSignature } from '@ccflow/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CliFailure } from '../src/cli-failure.js'
import { generateClientKey } from '../src/generate-client-key.js'
import { readClientKey } from '../src/read-client-key.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ccflow-read-key-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

let count = 0
/** Writes `content` (JSON for anything but a string) to a new file and returns its path. */
async function keyFile(content: unknown): Promise<string> {
  const file = join(dir, `key-${++count}`)
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content))
  return file
}

function pem(key: KeyObject, type: 'pkcs8' | 'pkcs1' | 'sec1' | 'spki'): string {
  return key.export({ format: 'pem', type } as never) as unknown as string
}

/** Whether the key read from the file signs what its public key verifies. */
function signsFor(read: { key: KeyObject; alg: string }, publicKey: KeyObject): boolean {
  return verifyJwsSignature(signJws({ alg: read.alg }, { x: 1 }, read.key), read.alg, publicKey)
}

describe('readClientKey', () => {
  it.each(['ES256', 'EdDSA', 'PS256', 'RS256'] as const)(
    'reads a private %s JWK with its kid and alg',
    async (alg) => {
      const { privateJwk, publicJwks } = generateClientKey(alg, `k-${alg}`)
      const read = await readClientKey(await keyFile(privateJwk))
      expect(read).toMatchObject({ alg, kid: `k-${alg}` })
      const publicKey = createPublicKey({ key: publicJwks.keys[0], format: 'jwk' })
      expect(signsFor(read, publicKey)).toBe(true)
    },
  )

  it('reads the one private key of a JWK Set that also holds public keys', async () => {
    const current = generateClientKey('ES256', 'current')
    const old = generateClientKey('ES256', 'old')
    const file = await keyFile({ keys: [old.publicJwks.keys[0], current.privateJwk] })
    expect(await readClientKey(file)).toMatchObject({ kid: 'current', alg: 'ES256' })
  })

  it('picks the algorithm that fits a JWK without alg, and no kid', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' })
    const read = await readClientKey(await keyFile(privateKey.export({ format: 'jwk' })))
    expect(read.alg).toBe('ES384')
    expect(read.kid).toBeUndefined()
  })

  it.each([
    [
      'an EC key in PKCS#8',
      () => generateKeyPairSync('ec', { namedCurve: 'P-256' }),
      'pkcs8',
      'ES256',
    ],
    [
      'an EC key in SEC1',
      () => generateKeyPairSync('ec', { namedCurve: 'P-256' }),
      'sec1',
      'ES256',
    ],
    ['an Ed25519 key', () => generateKeyPairSync('ed25519'), 'pkcs8', 'EdDSA'],
    [
      'an RSA key in PKCS#1',
      () => generateKeyPairSync('rsa', { modulusLength: 2048 }),
      'pkcs1',
      'RS256',
    ],
    [
      'an RSA-PSS key',
      () => generateKeyPairSync('rsa-pss', { modulusLength: 2048 }),
      'pkcs8',
      'PS256',
    ],
  ] as const)('reads %s from a PEM file, without a kid', async (_label, generate, type, alg) => {
    const { privateKey, publicKey } = generate()
    const read = await readClientKey(await keyFile(pem(privateKey, type)))
    expect(read).toMatchObject({ alg, kid: undefined })
    expect(signsFor(read, publicKey)).toBe(true)
  })

  describe('refusals', () => {
    async function refusal(content: unknown): Promise<string> {
      const file = await keyFile(content)
      const error = await readClientKey(file).then(
        () => undefined,
        (err: unknown) => err,
      )
      expect(error).toBeInstanceOf(CliFailure)
      return (error as CliFailure).message.replaceAll(file, 'FILE')
    }
    const PUBLIC =
      "FILE holds a public key; sign with the client's private key (the public JWK Set belongs in the client record)"
    const SYMMETRIC =
      'FILE holds a symmetric (oct) key; private_key_jwt signs with an asymmetric private key (EC, Ed25519 or RSA)'

    it('refuses a public JWK', async () => {
      expect(await refusal(generateClientKey('ES256').publicJwks.keys[0])).toBe(PUBLIC)
    })

    it('refuses a JWK Set of public keys (the client record’s jwks)', async () => {
      expect(await refusal(generateClientKey('EdDSA').publicJwks)).toBe(PUBLIC)
    })

    it.each([
      ['SPKI', 'spki'],
      ['PKCS#1', 'pkcs1'],
    ] as const)('refuses a public key in %s PEM', async (_label, type) => {
      const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
      expect(await refusal(publicKey.export({ format: 'pem', type }) as string)).toBe(PUBLIC)
    })

    it('refuses a certificate', async () => {
      expect(await refusal('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n')).toBe(
        PUBLIC,
      )
    })

    it('refuses a symmetric (oct) JWK, alone or in a JWK Set', async () => {
      const oct = { kty: 'oct', k: Buffer.alloc(32, 1).toString('base64url'), alg: 'HS256' }
      expect(await refusal(oct)).toBe(SYMMETRIC)
      expect(await refusal({ keys: [oct] })).toBe(SYMMETRIC)
    })

    it('refuses an HS256 alg on an asymmetric key', async () => {
      const { privateJwk } = generateClientKey('ES256')
      expect(await refusal({ ...privateJwk, alg: 'HS256' })).toBe(
        'FILE holds a key whose "alg" is not one of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA',
      )
    })

    it('refuses an alg that does not fit the key', async () => {
      const { privateJwk } = generateClientKey('RS256')
      expect(await refusal({ ...privateJwk, alg: 'ES256' })).toBe(
        'FILE: its "alg" ES256 does not fit the key it holds, a private rsa key (2048 bits)',
      )
    })

    it('refuses a key ccflow does not sign with (RSA under 2048 bits, X25519)', async () => {
      const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey
      expect(await refusal(small.export({ format: 'jwk' }))).toMatch(
        /^FILE: ccflow signs with EC P-256, P-384 or P-521, Ed25519 and RSA keys of at least 2048 bits; got a private rsa key \(1024 bits\)$/,
      )
      const x25519 = generateKeyPairSync('x25519').privateKey
      expect(await refusal(pem(x25519, 'pkcs8'))).toMatch(/; got a private x25519 key$/)
    })

    it('refuses a key for encryption', async () => {
      const { privateJwk } = generateClientKey('ES256')
      expect(await refusal({ ...privateJwk, use: 'enc' })).toBe(
        'FILE holds a key whose "use" is not "sig"',
      )
    })

    it('refuses a kid that is not a string', async () => {
      const { privateJwk } = generateClientKey('ES256')
      expect(await refusal({ ...privateJwk, kid: 7 })).toBe(
        'FILE holds a key whose "kid" is not a string',
      )
    })

    it('refuses a JWK Set with two private keys', async () => {
      const keys = [generateClientKey('ES256').privateJwk, generateClientKey('ES256').privateJwk]
      expect(await refusal({ keys })).toBe(
        'FILE holds 2 private keys; give a file with exactly one',
      )
    })

    it('refuses an empty JWK Set', async () => {
      expect(await refusal({ keys: [] })).toBe('FILE holds an empty JWK Set')
    })

    it('refuses JSON that is not a JWK', async () => {
      expect(await refusal({ private: generateClientKey('ES256').privateJwk })).toBe(
        'FILE holds JSON that is neither a JWK nor a JWK Set',
      )
      expect(await refusal('[]')).toBe('FILE holds JSON that is neither a JWK nor a JWK Set')
    })

    it('refuses text that is neither JSON nor PEM', async () => {
      expect(await refusal('{"kty": "EC",')).toBe(
        'FILE holds neither JSON (a JWK) nor a PEM private key',
      )
    })

    it('refuses a JWK whose members are not a key, without quoting them', async () => {
      const message = await refusal({ kty: 'EC', crv: 'P-256', x: 'secret-x', y: 'y', d: 'd' })
      expect(message).toBe('FILE could not be read as a private key')
    })

    it('refuses a PEM block that is not a key, without quoting it', async () => {
      const message = await refusal(
        '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n',
      )
      expect(message).toBe('FILE could not be read as a private key')
    })

    it('refuses an encrypted PEM key and says how to decrypt it', async () => {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      const encrypted = privateKey.export({
        format: 'pem',
        type: 'pkcs8',
        cipher: 'aes-256-cbc',
        passphrase: 'pass',
      }) as string
      expect(await refusal(encrypted)).toBe(
        'FILE is encrypted; decrypt it first (openssl pkey -in FILE -out plain.pem)',
      )
    })

    it('refuses a file larger than 64 KiB', async () => {
      expect(await refusal(' '.repeat(64 * 1024 + 1))).toBe(
        'FILE is larger than 64 KiB: not a key file',
      )
    })

    it.skipIf(process.platform === 'win32')('stops reading an endless file at 64 KiB', async () => {
      await expect(readClientKey('/dev/zero')).rejects.toThrow(
        new CliFailure('/dev/zero is larger than 64 KiB: not a key file'),
      )
    })
  })

  it('names the file and the error code when the file cannot be read', async () => {
    const missing = join(dir, 'missing.jwk')
    await expect(readClientKey(missing)).rejects.toThrow(
      new CliFailure(`cannot read ${missing} (ENOENT)`),
    )
    const folder = join(dir, 'a-folder')
    await mkdir(folder)
    await expect(readClientKey(folder)).rejects.toThrow(
      new CliFailure(`cannot read ${folder} (EISDIR)`),
    )
  })
})
