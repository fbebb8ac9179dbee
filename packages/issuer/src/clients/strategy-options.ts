import type { PassportStrategy } from '@ccflow/core'
import type { ClientStore } from './client-store.js'
import { checkPepper } from './secrets.js'
import { createEmitter, type EventEmitter, type IssuerEvent } from '../events.js'
import { REALM } from '../options.js'
import { DEFAULT_HOOK_TIMEOUT_MS } from '../unavailable.js'

/**
 * Options of {@link clientSecretBasicStrategy} and {@link clientSecretPostStrategy}. Checked
 * once, when the strategy is created. One object can configure both.
 */
export interface ClientSecretStrategyOptions {
  /** Where client records come from. */
  clients: ClientStore
  /**
   * The HMAC key for `hmac-sha256` secret hashes, at least 32 bytes. Must match the pepper the
   * hashes were made with.
   * @default undefined (the built-in domain-separation key)
   */
  secretPepper?: string
  /**
   * The realm of the `WWW-Authenticate: Basic` challenge (visible ASCII, no `"` or `\`). The
   * post strategy makes no challenge and ignores it.
   * @default 'ccflow'
   */
  realm?: string
  /**
   * Milliseconds to wait for `clients.findClient`; past it the strategy calls `error()` with a
   * 503 `temporarily_unavailable` {@link TokenError}.
   * @default 5000
   */
  hookTimeout?: number
  /**
   * Receives an `authentication_failed` event, with its reason, for each refused client. Called
   * synchronously, never awaited; a throw or a rejected promise is swallowed.
   * @default undefined
   */
  onEvent?: (event: IssuerEvent) => void
}

/** A passport strategy, ready for `passport.use()`. */
export interface ClientSecretStrategy extends PassportStrategy {
  /** The name to give `passport.authenticate()`. */
  readonly name: string
}

const STRATEGY_OPTION_KEYS: ReadonlySet<string> = new Set([
  'clients',
  'secretPepper',
  'realm',
  'hookTimeout',
  'onEvent',
])

/** Checked strategy options. */
export interface StrategyConfig {
  clients: ClientStore
  secretPepper: string | undefined
  realm: string
  hookTimeout: number
  emit: EventEmitter
}

export function resolveStrategyOptions(
  options: ClientSecretStrategyOptions,
  where: string,
): StrategyConfig {
  const fail = (name: string, message: string): never => {
    throw new TypeError(`${where}: option "${name}" ${message}`)
  }
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`${where}: options must be an object`)
  }
  for (const key of Object.keys(options)) {
    if (!STRATEGY_OPTION_KEYS.has(key)) throw new TypeError(`${where}: unknown option "${key}"`)
  }
  const { clients, secretPepper, realm, hookTimeout, onEvent } = options as unknown as Partial<
    Record<string, unknown>
  >
  if (
    typeof clients !== 'object' ||
    clients === null ||
    typeof (clients as { findClient?: unknown }).findClient !== 'function'
  ) {
    fail('clients', 'is required and must be a ClientStore (an object with findClient(id))')
  }
  let pepper: string | undefined
  try {
    pepper = checkPepper(secretPepper, where)
  } catch {
    fail('secretPepper', 'must be a string of at least 32 bytes')
  }
  if (realm !== undefined && (typeof realm !== 'string' || !REALM.test(realm))) {
    fail('realm', "must be 1-64 visible ASCII characters without '\"' or '\\'")
  }
  if (
    hookTimeout !== undefined &&
    (typeof hookTimeout !== 'number' ||
      !Number.isInteger(hookTimeout) ||
      hookTimeout < 1 ||
      hookTimeout > 60_000)
  ) {
    fail('hookTimeout', 'must be an integer from 1 to 60000')
  }
  if (onEvent !== undefined && typeof onEvent !== 'function') fail('onEvent', 'must be a function')
  return {
    clients: clients as ClientStore,
    secretPepper: pepper,
    realm: (realm as string | undefined) ?? 'ccflow',
    hookTimeout: (hookTimeout as number | undefined) ?? DEFAULT_HOOK_TIMEOUT_MS,
    emit: createEmitter(onEvent as ((event: IssuerEvent) => void) | undefined),
  }
}
