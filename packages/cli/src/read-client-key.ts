import { createPrivateKey, type KeyObject } from 'node:crypto'
import { createReadStream } from 'node:fs'
import {
  defaultAlgorithmForKey,
  isPlainObject,
  signJws,
  SIGNATURE_ALGORITHMS,
  type SignatureAlgorithm,
} from '@ccflow/core'
import { CliFailure } from './cli-failure.js'
import { readBounded } from './read-bounded.js'

/** A client's private key, ready to sign client assertions. */
export interface ClientKey {
  /** The private key. */
  readonly key: KeyObject
  /** The JWS algorithm: the JWK's `alg`, or the one that fits the key. */
  readonly alg: SignatureAlgorithm
  /** The JWK's `kid`; `undefined` for a PEM file or a JWK without one. */
  readonly kid: string | undefined
}

// A 4096-bit RSA private JWK is about 3.3 KB; anything this large is not a key.
const MAX_KEY_FILE_BYTES = 64 * 1024

/**
 * Reads a client's private key from a file: a private JWK, a JWK Set holding exactly one
 * private key, or an unencrypted PEM private key (PKCS#8, PKCS#1 or SEC1). The algorithm is the
 * JWK's `alg` when it has one (it must fit the key), else the one `defaultAlgorithmForKey`
 * picks: ES256/384/512 by curve, EdDSA for Ed25519, RS256 for RSA, PS256 for RSA-PSS.
 *
 * @throws {CliFailure} naming the file when it cannot be read or parsed, or holds a public key,
 * a symmetric (`oct`) key, a key for encryption, several private keys, or a key or `alg` that
 * ccflow does not sign client assertions with. Messages never include key material.
 */
export async function readClientKey(file: string): Promise<ClientKey> {
  let text: string
  try {
    const tooLong = `${file} is larger than ${MAX_KEY_FILE_BYTES / 1024} KiB: not a key file`
    text = (await readBounded(createReadStream(file), MAX_KEY_FILE_BYTES, tooLong)).toString('utf8')
  } catch (err) {
    if (err instanceof CliFailure) throw err
    throw new CliFailure(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
  }
  if (text.includes('-----BEGIN ')) return fromPem(text, file)
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new CliFailure(`${file} holds neither JSON (a JWK) nor a PEM private key`)
  }
  return fromJwk(pickJwk(parsed, file), file)
}

const PUBLIC_KEY = (file: string): CliFailure =>
  new CliFailure(
    `${file} holds a public key; sign with the client's private key (the public JWK Set ` +
      'belongs in the client record)',
  )
const SYMMETRIC_KEY = (file: string): CliFailure =>
  new CliFailure(
    `${file} holds a symmetric (oct) key; private_key_jwt signs with an asymmetric private key ` +
      '(EC, Ed25519 or RSA)',
  )

/** The one JWK to use: the file's JWK, or the one private key of its JWK Set. */
function pickJwk(parsed: unknown, file: string): Record<string, unknown> {
  if (isPlainObject(parsed) && Array.isArray(parsed.keys)) {
    const keys = parsed.keys.filter(isPlainObject)
    const candidates = keys.filter((jwk) => jwk.d !== undefined)
    if (candidates.length === 1) return candidates[0] as Record<string, unknown>
    if (candidates.length > 1) {
      throw new CliFailure(
        `${file} holds ${candidates.length} private keys; give a file with exactly one`,
      )
    }
    if (keys.some((jwk) => jwk.kty === 'oct')) throw SYMMETRIC_KEY(file)
    if (keys.length > 0) throw PUBLIC_KEY(file)
    throw new CliFailure(`${file} holds an empty JWK Set`)
  }
  if (isPlainObject(parsed) && typeof parsed.kty === 'string') return parsed
  throw new CliFailure(`${file} holds JSON that is neither a JWK nor a JWK Set`)
}

function fromJwk(jwk: Record<string, unknown>, file: string): ClientKey {
  if (jwk.kty === 'oct') throw SYMMETRIC_KEY(file)
  if (typeof jwk.d !== 'string') throw PUBLIC_KEY(file)
  if (jwk.use !== undefined && jwk.use !== 'sig') {
    throw new CliFailure(`${file} holds a key whose "use" is not "sig"`)
  }
  if (jwk.kid !== undefined && typeof jwk.kid !== 'string') {
    throw new CliFailure(`${file} holds a key whose "kid" is not a string`)
  }
  const declared = jwk.alg
  if (declared !== undefined && !(SIGNATURE_ALGORITHMS as readonly unknown[]).includes(declared)) {
    throw new CliFailure(
      `${file} holds a key whose "alg" is not one of ${SIGNATURE_ALGORITHMS.join(', ')}`,
    )
  }
  const key = parse(() => createPrivateKey({ key: jwk, format: 'jwk' }), file)
  return {
    key,
    alg: algorithmFor(key, declared as SignatureAlgorithm | undefined, file),
    kid: jwk.kid,
  }
}

function fromPem(text: string, file: string): ClientKey {
  if (/-----BEGIN (?:RSA |EC )?PUBLIC KEY-----|-----BEGIN CERTIFICATE-----/.test(text)) {
    throw PUBLIC_KEY(file)
  }
  // Checked up front: OpenSSL's error for a missing passphrase differs between Node versions.
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(text)) {
    throw new CliFailure(
      `${file} is encrypted; decrypt it first (openssl pkey -in ${file} -out plain.pem)`,
    )
  }
  const key = parse(() => createPrivateKey(text), file)
  return { key, alg: algorithmFor(key, undefined, file), kid: undefined }
}

function parse(read: () => KeyObject, file: string): KeyObject {
  try {
    return read()
  } catch {
    // OpenSSL's reason is not shown: it can quote parts of the input.
    throw new CliFailure(`${file} could not be read as a private key`)
  }
}

/** The JWK's `alg` when it fits the key, else the algorithm that fits the key. */
function algorithmFor(
  key: KeyObject,
  declared: SignatureAlgorithm | undefined,
  file: string,
): SignatureAlgorithm {
  try {
    if (declared === undefined) return defaultAlgorithmForKey(key)
    // signJws is the one place that knows which key fits which algorithm: a signature over an
    // empty payload asks it before anything is sent.
    signJws({ alg: declared }, {}, key)
    return declared
  } catch (err) {
    // Both messages describe the key in words ("got a private rsa key (1024 bits)"), never its
    // material.
    const message = (err as Error).message
    if (declared === undefined) throw new CliFailure(`${file}: ${message.replace(/^\w+: /, '')}`)
    const got = /; got (.+)$/.exec(message)?.[1] ?? 'another key'
    throw new CliFailure(`${file}: its "alg" ${declared} does not fit the key it holds, ${got}`)
  }
}
