// Helpers for the mistake programs of test/readme-samples.test.ts. The programs run inside the
// packed-tarball app, so '@ccflow/…' here are the tarballs a user installs, not the workspace.
import { Buffer } from 'node:buffer'
import { createServer } from 'node:http'
import { URLSearchParams } from 'node:url'
import express from 'express'
import {
  generateClientSecret,
  generateSigningKey,
  hashClientSecret,
  staticClientStore,
  tokenEndpoint,
} from '@ccflow/issuer'

/** The audience the programs' clients may get tokens for. */
export const API = 'https://api.example/reports'

/** Listens on 127.0.0.1:0, then installs the handler built for the bound URL. */
export async function listen(build) {
  let handler
  const server = createServer((req, res) => handler(req, res))
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${server.address().port}`
  handler = build(url)
  const close = () =>
    new Promise((resolve) => {
      server.close(resolve)
      server.closeAllConnections()
    })
  return { url, close }
}

/** A client record with a fresh secret, hashed with `pepper` when given. */
export async function makeClient({ audiences = [API], pepper } = {}) {
  const { secretId, secret } = generateClientSecret()
  const record = {
    client_id: 'billing',
    scope: 'reports:read',
    audiences,
    secrets: [{ id: secretId, hash: await hashClientSecret(secret, { pepper }) }],
  }
  return { record, secret }
}

/** A token endpoint for `record` on a free port; `issuer` maps its URL to its issuer. */
export async function startIssuer(record, { issuer = (url) => url, secretPepper } = {}) {
  const key = generateSigningKey('ES256')
  const server = await listen((url) => {
    const app = express()
    app.use(
      tokenEndpoint({
        issuer: issuer(url),
        clients: staticClientStore([record]),
        keys: [key],
        secretPepper,
      }),
    )
    return app
  })
  return { ...server, key }
}

/** `POST /token` with Basic credentials (RFC 6749 §2.3.1: form-encoded, then Base64). */
export async function requestToken(issuerUrl, clientId, secret, resource = API) {
  const credentials = `${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`
  const res = await globalThis.fetch(`${issuerUrl}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(credentials).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource }).toString(),
  })
  return { status: res.status, body: await res.json() }
}

/** `GET url` with a bearer token: the status and the body text. */
export async function get(url, token) {
  const res = await globalThis.fetch(url, { headers: { authorization: `Bearer ${token}` } })
  return { status: res.status, body: await res.text() }
}

/** The message of what `fn` throws, or null when it throws nothing. */
export function messageOf(fn) {
  try {
    fn()
    return null
  } catch (err) {
    return err instanceof Error ? err.message : String(err)
  }
}

/**
 * The program's result: one JSON line on standard output, then the end of the program (fetch's
 * keep-alive sockets would otherwise hold it open for about a second more).
 */
export function print(result) {
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0))
}
