import { createPrivateKey, createPublicKey, KeyObject } from 'node:crypto'
import {
  isPlainObject,
  jwkThumbprint,
  optionError,
  type OptionPath,
  type PrivateJwk,
} from '@ccflow/core'

/**
 * A client's private key for `private_key_jwt`: a `KeyObject`, a private JWK (with `d`), or an
 * unencrypted PEM private key (PKCS#8, PKCS#1 or SEC1). EC P-256/384/521, Ed25519 and RSA of at
 * least 2048 bits.
 */
export type PrivateKeyInput = KeyObject | PrivateJwk | string

/** A private key imported once, at `createTokenClient`. */
export interface ImportedPrivateKey {
  readonly key: KeyObject
  /** The JWK's `kid`, when the key was given as a JWK that has one. */
  readonly kid: string | undefined
  /** The RFC 7638 thumbprint of the public key: part of the cache key. */
  readonly thumbprint: string
}

/**
 * Imports a private key option. Error messages describe the key in words, never its material
 * (OpenSSL's own reasons can quote the input, so they are not shown).
 *
 * @throws {TypeError} naming the option for a public, symmetric, encrypted or unreadable key.
 */
export function importPrivateKey(input: unknown, at: OptionPath): ImportedPrivateKey {
  let key: KeyObject
  let kid: string | undefined
  if (input instanceof KeyObject) {
    if (input.type !== 'private') throw optionError(at.where, at.path, 'must be a private key')
    key = input
  } else if (typeof input === 'string') {
    if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(input)) {
      throw optionError(at.where, at.path, 'must be an unencrypted PEM private key')
    }
    if (!/-----BEGIN (?:RSA |EC )?PRIVATE KEY-----/.test(input)) {
      throw optionError(at.where, at.path, 'must be a PEM private key (public keys cannot sign)')
    }
    key = parse(() => createPrivateKey(input), at)
  } else if (isPlainObject(input)) {
    if (input.kty === 'oct' || typeof input.d !== 'string') {
      throw optionError(at.where, at.path, 'must be a private EC, OKP or RSA JWK (with "d")')
    }
    if (input.kid !== undefined && typeof input.kid !== 'string') {
      throw optionError(at.where, at.path, 'must be a JWK whose "kid" is a string')
    }
    kid = input.kid
    key = parse(() => createPrivateKey({ key: input, format: 'jwk' }), at)
  } else {
    throw optionError(at.where, at.path, 'must be a KeyObject, a private JWK or a PEM string')
  }
  let thumbprint: string
  try {
    thumbprint = jwkThumbprint(createPublicKey(key).export({ format: 'jwk' }))
  } catch {
    throw optionError(at.where, at.path, 'must be an EC, Ed25519 or RSA key')
  }
  return { key, kid, thumbprint }
}

function parse(read: () => KeyObject, at: OptionPath): KeyObject {
  try {
    return read()
  } catch {
    throw optionError(at.where, at.path, 'could not be read as a private key')
  }
}
