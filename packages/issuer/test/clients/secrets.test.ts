import { scryptSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  checkPepper,
  generateClientSecret,
  hashClientSecret,
  isSecretHash,
  parseSecretId,
  UNMATCHABLE_SECRET_HASH,
  verifyClientSecret,
} from '../../src/clients/secrets.js'

const PEPPER = 'test-pepper-0123456789abcdefghijklmnop'

/** PHC base64: standard alphabet, no padding. */
const phc = (buf: Buffer): string => buf.toString('base64').replace(/=+$/, '')

describe('generateClientSecret', () => {
  it('returns a ccs_ secret carrying the secret id and 256 random bits in base64url', () => {
    const { secretId, secret } = generateClientSecret({ secretId: 'key-2024' })
    expect(secretId).toBe('key-2024')
    expect(secret).toMatch(/^ccs_key-2024_[A-Za-z0-9_-]{43}$/)
    expect(Buffer.from(secret.slice('ccs_key-2024_'.length), 'base64url')).toHaveLength(32)
  })

  // passport-http splits client_secret_basic on every ':', so a generated secret must hold none.
  it('never generates a secret holding ":" (safe in HTTP Basic even unencoded)', () => {
    for (let i = 0; i < 5000; i++) {
      const { secret } = generateClientSecret()
      expect(secret.includes(':') || secret !== encodeURIComponent(secret)).toBe(false)
    }
  })

  it('generates a random secret id when none is given, or secretId is undefined', () => {
    expect(generateClientSecret({ secretId: undefined }).secretId).toMatch(/^[0-9a-f]{12}$/)
    const a = generateClientSecret()
    const b = generateClientSecret()
    expect(a.secretId).toMatch(/^[0-9a-f]{12}$/)
    expect(a.secretId).not.toBe(b.secretId)
    expect(a.secret).not.toBe(b.secret)
  })

  it('never puts a colon in the secret, so it is safe in a Basic header', () => {
    for (let i = 0; i < 200; i++) expect(generateClientSecret().secret).not.toContain(':')
  })

  it.each(['', 'has_underscore', 'a:b', 'x'.repeat(33), 'spa ce'])(
    'rejects the secret id %j with a TypeError',
    (secretId) => {
      expect(() => generateClientSecret({ secretId })).toThrow(
        'generateClientSecret: option "secretId" must be 1-32 characters of [A-Za-z0-9-]',
      )
    },
  )

  it('refuses a misspelt option, naming the one it resembles', () => {
    expect(() => generateClientSecret({ secretID: 'k1' } as never)).toThrow(
      'generateClientSecret: unknown option "secretID" (did you mean "secretId"?)',
    )
  })
})

describe('parseSecretId', () => {
  it('reads the id of a generated secret even when the random part contains _ and -', () => {
    const secret = `ccs_prod-1_${'_-'.repeat(21)}A`
    expect(parseSecretId(secret)).toBe('prod-1')
  })

  it('round-trips every generated secret', () => {
    for (let i = 0; i < 100; i++) {
      const { secretId, secret } = generateClientSecret()
      expect(parseSecretId(secret)).toBe(secretId)
    }
  })

  it.each([
    ['a human-chosen secret', 'correct horse battery staple'],
    ['a prefix without an id', `ccs__${'A'.repeat(43)}`],
    ['a random part of the wrong length', `ccs_id_${'A'.repeat(42)}`],
    ['an id that is too long', `ccs_${'a'.repeat(33)}_${'A'.repeat(43)}`],
    ['a character outside base64url', `ccs_id_${'A'.repeat(42)}+`],
    ['an upper-case prefix', `CCS_id_${'A'.repeat(43)}`],
    ['a non-string', 42 as unknown as string],
  ])('returns undefined for %s', (_label, secret) => {
    expect(parseSecretId(secret)).toBeUndefined()
  })
})

describe('hashClientSecret', () => {
  it('makes an hmac-sha256 hash for a generated secret by default', async () => {
    const { secret } = generateClientSecret()
    const hash = await hashClientSecret(secret)
    expect(hash).toMatch(/^\$hmac-sha256\$[A-Za-z0-9_-]{43}$/)
    expect(hash).not.toContain(secret)
  })

  it('makes an scrypt PHC string for a human-chosen secret by default', async () => {
    const hash = await hashClientSecret('correct horse battery staple')
    expect(hash).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/)
  })

  it('salts scrypt hashes so the same secret hashes differently', async () => {
    const a = await hashClientSecret('same secret', { algorithm: 'scrypt' })
    const b = await hashClientSecret('same secret', { algorithm: 'scrypt' })
    expect(a).not.toBe(b)
  })

  it('treats pepper and algorithm set to undefined as not given', async () => {
    const { secret } = generateClientSecret()
    expect(await hashClientSecret(secret, { pepper: undefined, algorithm: undefined })).toBe(
      await hashClientSecret(secret),
    )
    const hash = await hashClientSecret(secret)
    expect(await verifyClientSecret(secret, hash, { pepper: undefined })).toBe(true)
  })

  it('keys the hmac with the pepper', async () => {
    const { secret } = generateClientSecret()
    const plain = await hashClientSecret(secret)
    const peppered = await hashClientSecret(secret, { pepper: PEPPER })
    expect(peppered).not.toBe(plain)
    expect(await hashClientSecret(secret, { pepper: PEPPER })).toBe(peppered)
  })

  it.each([
    ['an empty secret', ''],
    ['a secret over 1024 characters', 'x'.repeat(1025)],
    ['a non-string secret', undefined as unknown as string],
  ])('throws a TypeError for %s', async (_label, secret) => {
    await expect(hashClientSecret(secret)).rejects.toBeInstanceOf(TypeError)
  })

  it('throws a TypeError for a pepper shorter than 32 bytes', async () => {
    await expect(hashClientSecret('x', { pepper: 'short' })).rejects.toBeInstanceOf(TypeError)
  })

  it('throws a TypeError naming an unknown algorithm, and the nearest one', async () => {
    await expect(hashClientSecret('x', { algorithm: 'md5' as 'scrypt' })).rejects.toThrow(
      /^hashClientSecret: option "algorithm" must be 'hmac-sha256' or 'scrypt'$/,
    )
    await expect(hashClientSecret('x', { algorithm: 'scrpyt' as 'scrypt' })).rejects.toThrow(
      "hashClientSecret: option \"algorithm\" must be 'hmac-sha256' or 'scrypt' (did you mean 'scrypt'?)",
    )
  })

  it('refuses a misspelt pepper option instead of hashing without a pepper', async () => {
    const peper = 'p'.repeat(32)
    await expect(hashClientSecret('x', { peper } as never)).rejects.toThrow(
      'hashClientSecret: unknown option "peper" (did you mean "pepper"?)',
    )
    await expect(verifyClientSecret('x', '$hmac-sha256$x', { peper } as never)).rejects.toThrow(
      'verifyClientSecret: unknown option "peper" (did you mean "pepper"?)',
    )
  })

  it('names the pepper option when it is too short', async () => {
    await expect(hashClientSecret('x', { pepper: 'short' })).rejects.toThrow(
      'hashClientSecret: option "pepper" must be a string of at least 32 bytes',
    )
  })
})

describe('verifyClientSecret', () => {
  it('accepts the right generated secret and refuses a wrong one (hmac-sha256)', async () => {
    const { secret } = generateClientSecret({ secretId: 'a' })
    const hash = await hashClientSecret(secret)
    expect(await verifyClientSecret(secret, hash)).toBe(true)
    expect(await verifyClientSecret(generateClientSecret({ secretId: 'a' }).secret, hash)).toBe(
      false,
    )
    expect(await verifyClientSecret(`${secret}x`, hash)).toBe(false)
    expect(await verifyClientSecret('', hash)).toBe(false)
  })

  it('needs the same pepper the hash was made with', async () => {
    const { secret } = generateClientSecret()
    const hash = await hashClientSecret(secret, { pepper: PEPPER })
    expect(await verifyClientSecret(secret, hash, { pepper: PEPPER })).toBe(true)
    expect(await verifyClientSecret(secret, hash)).toBe(false)
    expect(await verifyClientSecret(secret, hash, { pepper: `${PEPPER}!` })).toBe(false)
  })

  it('accepts the right human-chosen secret and refuses a wrong one (scrypt)', async () => {
    const secret = 'pässwörd: with % and + and spaces'
    const hash = await hashClientSecret(secret, { algorithm: 'scrypt' })
    expect(await verifyClientSecret(secret, hash)).toBe(true)
    expect(await verifyClientSecret('pässwörd: with % and + and space', hash)).toBe(false)
  })

  it('honours N, r and p from the stored string rather than its own defaults', async () => {
    const salt = Buffer.alloc(16, 7)
    const derived = scryptSync('password', salt, 64, { N: 1024, r: 8, p: 16 })
    const stored = `$scrypt$ln=10,r=8,p=16$${phc(salt)}$${phc(derived)}`
    expect(isSecretHash(stored)).toBe(true)
    expect(await verifyClientSecret('password', stored)).toBe(true)
    expect(await verifyClientSecret('Password', stored)).toBe(false)
  })

  it.each([
    ['an empty string', ''],
    ['a plain-text secret', 'ccs_a_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['an unknown algorithm', '$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g'],
    ['a truncated hmac digest', '$hmac-sha256$AAAA'],
    ['an hmac digest with a bad character', `$hmac-sha256$${'A'.repeat(42)}*`],
    ['scrypt with N = 2^30', `$scrypt$ln=30,r=8,p=1$${'A'.repeat(22)}$${'A'.repeat(43)}`],
    ['scrypt with r = 999', `$scrypt$ln=15,r=999,p=1$${'A'.repeat(22)}$${'A'.repeat(43)}`],
    ['scrypt with p = 999', `$scrypt$ln=15,r=8,p=999$${'A'.repeat(22)}$${'A'.repeat(43)}`],
    ['scrypt with p = 0', `$scrypt$ln=15,r=8,p=0$${'A'.repeat(22)}$${'A'.repeat(43)}`],
    ['scrypt with ln below 10', `$scrypt$ln=4,r=8,p=1$${'A'.repeat(22)}$${'A'.repeat(43)}`],
    ['scrypt with a short salt', `$scrypt$ln=15,r=8,p=1$${'A'.repeat(8)}$${'A'.repeat(43)}`],
    // 88 base64 characters fit the pattern but decode to 66 bytes, over the 64-byte bound.
    ['scrypt with a 66-byte salt', `$scrypt$ln=15,r=8,p=1$${'A'.repeat(88)}$${'A'.repeat(43)}`],
    ['scrypt with a 66-byte hash', `$scrypt$ln=15,r=8,p=1$${'A'.repeat(22)}$${'A'.repeat(88)}`],
    [
      'scrypt with parameters reordered',
      `$scrypt$r=8,ln=15,p=1$${'A'.repeat(22)}$${'A'.repeat(43)}`,
    ],
    ['scrypt with a missing hash', `$scrypt$ln=15,r=8,p=1$${'A'.repeat(22)}`],
    ['a non-string', 42 as unknown as string],
  ])('returns false, without throwing, for a stored hash that is %s', async (_label, stored) => {
    expect(isSecretHash(stored)).toBe(false)
    await expect(verifyClientSecret('correct horse', stored)).resolves.toBe(false)
  })

  it('returns false for a presented secret that is not a string or is over 1024 characters', async () => {
    const hash = await hashClientSecret('x'.repeat(1024), { algorithm: 'hmac-sha256' })
    expect(await verifyClientSecret('x'.repeat(1024), hash)).toBe(true)
    expect(await verifyClientSecret('x'.repeat(1025), hash)).toBe(false)
    expect(await verifyClientSecret(undefined as unknown as string, hash)).toBe(false)
    expect(await verifyClientSecret({} as unknown as string, hash)).toBe(false)
  })

  it('throws a TypeError for a pepper shorter than 32 bytes (a configuration error)', async () => {
    await expect(
      verifyClientSecret('x', '$hmac-sha256$' + 'A'.repeat(43), { pepper: 'short' }),
    ).rejects.toBeInstanceOf(TypeError)
  })
})

describe('UNMATCHABLE_SECRET_HASH', () => {
  it('is a well-formed hmac-sha256 hash that no secret verifies against', async () => {
    expect(isSecretHash(UNMATCHABLE_SECRET_HASH)).toBe(true)
    const { secret } = generateClientSecret()
    await expect(verifyClientSecret(secret, UNMATCHABLE_SECRET_HASH)).resolves.toBe(false)
    await expect(
      verifyClientSecret(secret, UNMATCHABLE_SECRET_HASH, { pepper: PEPPER }),
    ).resolves.toBe(false)
    await expect(verifyClientSecret('', UNMATCHABLE_SECRET_HASH)).resolves.toBe(false)
  })
})

describe('checkPepper', () => {
  it('accepts undefined and a 32-byte string, and names the caller otherwise', () => {
    expect(checkPepper(undefined, 'secretPepper')).toBeUndefined()
    expect(checkPepper(PEPPER, 'secretPepper')).toBe(PEPPER)
    // 16 two-byte characters are 32 bytes of UTF-8.
    expect(checkPepper('é'.repeat(16), 'secretPepper')).toBe('é'.repeat(16))
    expect(() => checkPepper('a'.repeat(31), 'secretPepper')).toThrow(/secretPepper/)
    expect(() => checkPepper(Buffer.alloc(32), 'secretPepper')).toThrow(TypeError)
  })
})
