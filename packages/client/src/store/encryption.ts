import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'

/** Seals and opens stored tokens with AES-256-GCM under an application key. */
export interface TokenCipher {
  /** `v1.<iv>.<tag>.<ciphertext>` (base64url), bound to `context` (the Redis key). */
  seal(plaintext: string, context: string): string
  /** The plaintext, or `undefined` when the text was not sealed by this key for this context. */
  open(sealed: string, context: string): string | undefined
}

const IV_BYTES = 12 // the GCM nonce size NIST SP 800-38D recommends
const TAG_BYTES = 16

/**
 * AES-256-GCM with a random 96-bit nonce per value and the Redis key as additional
 * authenticated data, so a value copied to another key does not open. Node's `createCipheriv`
 * refuses a key that is not 32 bytes.
 */
export function createTokenCipher(key: Buffer): TokenCipher {
  return {
    seal(plaintext, context) {
      const iv = randomBytes(IV_BYTES)
      const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES })
      cipher.setAAD(Buffer.from(context))
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
      return ['v1', iv, cipher.getAuthTag(), ciphertext]
        .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
        .join('.')
    },
    open(sealed, context) {
      const [version, iv, tag, ciphertext, extra] = sealed.split('.')
      if (version !== 'v1' || ciphertext === undefined || extra !== undefined) return undefined
      try {
        const decipher = createDecipheriv(
          'aes-256-gcm',
          key,
          Buffer.from(iv as string, 'base64url'),
          {
            authTagLength: TAG_BYTES,
          },
        )
        decipher.setAAD(Buffer.from(context))
        decipher.setAuthTag(Buffer.from(tag as string, 'base64url'))
        const plaintext = Buffer.concat([
          decipher.update(Buffer.from(ciphertext, 'base64url')),
          decipher.final(),
        ])
        return plaintext.toString('utf8')
      } catch {
        return undefined
      }
    },
  }
}
