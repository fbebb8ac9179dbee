/**
 * The token server's configuration, read from the environment and two JSON files.
 * Every problem is a ConfigError naming the variable, file, record and field to fix.
 */
import { readFileSync } from 'node:fs'
import {
  type ClientStore,
  type SigningKeysInput,
  generateSigningKey,
  importSigningKeys,
  jsonFileClientStore,
} from '@ccflow/issuer'
import * as env from '../shared/env.js'
import { redisUrl } from '../shared/redis.js'
import { type ClientDatabase, databaseUrl, openClientDatabase } from './clients-database.js'

/** Everything the token server needs to start. */
export interface TokenServerConfig {
  host: string
  port: number
  /** `ISSUER`; `undefined` means `http://HOST:PORT` with the port actually bound. */
  issuer: string | undefined
  /**
   * `CLIENTS_FILE`, read through the issuer's `jsonFileClientStore`; or, with `DATABASE_URL`,
   * the issuer's `postgresClientStore` (`database.clients`).
   */
  clients: ClientStore
  /** `DATABASE_URL`: the clients in PostgreSQL, to be made `ready()` before listening. */
  database: ClientDatabase | undefined
  /** Private signing keys (a list or a JWK Set); the first signs. */
  keys: SigningKeysInput
  accessTokenTtlSeconds: number | undefined
  trustProxy: env.TrustProxy
  /** `CCFLOW_SECRET_PEPPER`: the HMAC key the stored hashes were made with, if any. */
  secretPepper: string | undefined
  /**
   * `REDIS_URL`: rate limits, revocations and used client assertions shared by every instance;
   * in-process without.
   */
  redisUrl: string | undefined
  /** `METRICS_PORT` and `METRICS_HOST`: where `GET /metrics` is served; `undefined`: nowhere. */
  metrics: env.MetricsListener | undefined
  /** Things the operator should know at startup (an empty clients file, an ephemeral key). */
  warnings: string[]
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1'])

/**
 * Reads `HOST`, `PORT`, `ISSUER`, `CLIENTS_FILE` or `DATABASE_URL`, `SIGNING_KEYS_FILE`,
 * `ACCESS_TOKEN_TTL`, `TRUST_PROXY`, `CCFLOW_SECRET_PEPPER`, `REDIS_URL`, `METRICS_PORT` and
 * `METRICS_HOST`. CLIENTS_FILE holds hashes only; with DATABASE_URL the clients come from
 * PostgreSQL (nothing connects until `database.ready()`).
 *
 * @throws {env.ConfigError} With a one-line message saying what to fix.
 */
export function loadTokenServerConfig(vars: env.Env): TokenServerConfig {
  const warnings: string[] = []
  // The cheap checks first, so a typo in a variable is reported before any file is read.
  const host = env.host(vars)
  const port = env.port(vars, 4000)
  const issuerVar = env.optional(vars, 'ISSUER')
  const issuer = issuerVar === undefined ? undefined : env.url(issuerVar, 'ISSUER')
  // Clients elsewhere cannot use http://<bind address> as the issuer, and the issuer accepts
  // plain http only on loopback.
  if (issuer === undefined && !LOOPBACK.has(host)) {
    throw new env.ConfigError(
      'ISSUER is required when HOST is not a loopback address (the https URL clients use)',
    )
  }
  const accessTokenTtlSeconds = env.seconds(vars, 'ACCESS_TOKEN_TTL')
  const trustProxy = env.trustProxy(vars)
  const secretPepper = env.optional(vars, 'CCFLOW_SECRET_PEPPER')
  if (secretPepper !== undefined && Buffer.byteLength(secretPepper) < 32) {
    throw new env.ConfigError(
      'CCFLOW_SECRET_PEPPER must be at least 32 bytes (the HMAC key of the client secret hashes)',
    )
  }
  const redis = redisUrl(vars)
  const metrics = env.metricsListener(vars)
  const database = openDatabase(vars)
  const clients = database?.clients ?? openClientsFile(clientsFilePath(vars), warnings)
  const keysFile = env.optional(vars, 'SIGNING_KEYS_FILE')
  let keys: SigningKeysInput
  if (keysFile === undefined) {
    const { kid, alg, privateKey } = generateSigningKey('RS256')
    keys = [{ kid, alg, privateKey }]
    warnings.push(
      'SIGNING_KEYS_FILE is not set: signing with an ephemeral key, so tokens will not survive ' +
        'a restart (make a key file with `ccflow keygen --out signing-keys.json`)',
    )
  } else {
    keys = readSigningKeysFile(keysFile)
  }
  return {
    host,
    port,
    issuer,
    clients,
    database,
    keys,
    accessTokenTtlSeconds,
    trustProxy,
    secretPepper,
    redisUrl: redis,
    metrics,
    warnings,
  }
}

function readJson(path: string, name: string): unknown {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable'
    throw new env.ConfigError(`${name} ${path} cannot be read (${code})`)
  }
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new env.ConfigError(`${name} ${path} is not valid JSON (${(err as Error).message})`)
  }
}

/**
 * `DATABASE_URL`: the clients in PostgreSQL. Beside it, `CLIENTS_FILE` is refused: clients come
 * from one place, and a file that silently stopped counting would mislead whoever edits it.
 */
function openDatabase(vars: env.Env): ClientDatabase | undefined {
  const url = databaseUrl(vars)
  if (url === undefined) return undefined
  if (env.optional(vars, 'CLIENTS_FILE') !== undefined) {
    throw new env.ConfigError(
      'CLIENTS_FILE and DATABASE_URL are both set: clients come from one place. Unset ' +
        'CLIENTS_FILE (copy its clients with `ccflow client import FILE`) or DATABASE_URL',
    )
  }
  return openClientDatabase(url, 'token-server')
}

function clientsFilePath(vars: env.Env): string {
  return env.required(
    vars,
    'CLIENTS_FILE',
    'a JSON array of client records; or set DATABASE_URL for clients in PostgreSQL',
  )
}

/**
 * Opens `CLIENTS_FILE` with the issuer's own client store, so the records are the package's one
 * format (see "Client records" in packages/issuer/README.md); its warnings join the startup
 * warnings.
 */
function openClientsFile(path: string, warnings: string[]): ClientStore {
  try {
    return jsonFileClientStore(path, {
      onWarning: (message) => warnings.push(`CLIENTS_FILE ${message}`),
    })
  } catch (err) {
    // The store's TypeErrors start with the path and the record's position: say which variable.
    if (err instanceof TypeError) throw new env.ConfigError(`CLIENTS_FILE ${err.message}`)
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable'
    throw new env.ConfigError(`CLIENTS_FILE ${path} cannot be read (${code})`)
  }
}

/**
 * Reads `SIGNING_KEYS_FILE`: the private JWK Set that `ccflow keygen --out` writes, every key with
 * `kid` and `alg` (RS256, PS256 or ES256). It is checked here with the issuer's own
 * `importSigningKeys`, so a bad file stops the server at startup naming the file and the key. The
 * first key signs; the others are published so tokens they signed still verify during a rotation.
 */
function readSigningKeysFile(path: string): SigningKeysInput {
  const document = readJson(path, 'SIGNING_KEYS_FILE') as SigningKeysInput
  try {
    importSigningKeys(document)
  } catch (err) {
    throw new env.ConfigError(`SIGNING_KEYS_FILE ${path}: ${(err as Error).message}`)
  }
  return document
}
