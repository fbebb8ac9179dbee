import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createTokenCipher } from '../../src/store/encryption.js'

const cipher = createTokenCipher(randomBytes(32))

describe('createTokenCipher', () => {
  it('opens what it sealed, for the same context', () => {
    const sealed = cipher.seal('{"value":"secret-token"}', 'key-1')
    expect(sealed).toMatch(/^v1\.[\w-]{16}\.[\w-]{22}\.[\w-]+$/)
    expect(sealed).not.toContain('secret-token')
    expect(cipher.open(sealed, 'key-1')).toBe('{"value":"secret-token"}')
  })

  it('seals the same text differently each time (a random nonce)', () => {
    expect(cipher.seal('x', 'k')).not.toBe(cipher.seal('x', 'k'))
  })

  it('refuses another context, another key and any change', () => {
    const sealed = cipher.seal('text', 'key-1')
    expect(cipher.open(sealed, 'key-2')).toBeUndefined()
    expect(createTokenCipher(randomBytes(32)).open(sealed, 'key-1')).toBeUndefined()
    const [v, iv, tag, ciphertext] = sealed.split('.') as [string, string, string, string]
    const flipped = `${ciphertext.startsWith('A') ? 'B' : 'A'}${ciphertext.slice(1)}`
    expect(cipher.open([v, iv, tag, flipped].join('.'), 'key-1')).toBeUndefined()
  })

  it.each(['', 'v2.a.b.c', 'v1.a.b', 'v1.a.b.c.d', '{"value":"x"}'])(
    'refuses the text %j',
    (text) => {
      expect(cipher.open(text, 'k')).toBeUndefined()
    },
  )
})
