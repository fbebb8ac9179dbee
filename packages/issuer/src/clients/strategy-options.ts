import type { ClientStore } from './client-store.js'
import { checkPepperOption } from './secrets.js'
import { createEmitter, type EmitEvent, type IssuerEvent } from '../events.js'
import {
  checkFunction,
  checkInteger,
  checkKnownKeys,
  checkObject,
  checkString,
  defineAliases,
  optionError,
  type OptionAliases,
  type OptionTable,
  type PassportStrategy,
  renameDeprecated,
} from '@ccflow/core'
import { HOOK_TIMEOUT_RANGE, REALM_RULE } from '../options/defaults.js'
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
  secretPepper?: string | undefined
  /**
   * The realm of the `WWW-Authenticate: Basic` challenge (visible ASCII, no `"` or `\`). The
   * post strategy makes no challenge and ignores it.
   * @default CLIENT_SECRET_STRATEGY_DEFAULTS.realm ('ccflow')
   */
  realm?: string | undefined
  /**
   * Milliseconds to wait for `clients.findClient`; past it the strategy calls `error()` with a
   * 503 `temporarily_unavailable` {@link TokenError} (1 to 60000).
   * @default CLIENT_SECRET_STRATEGY_DEFAULTS.hookTimeoutMs (5000, as tokenEndpoint's)
   */
  hookTimeoutMs?: number | undefined
  /**
   * Receives an `authentication_failed` event, with its reason, for each refused client. Called
   * synchronously, never awaited; a throw or a rejected promise is swallowed.
   * @default undefined: outside production, each refusal is explained once per client and
   *   reason, as a process warning (`CCFLOW_ISSUER_CLIENT_AUTH`)
   */
  onEvent?: ((event: IssuerEvent) => void) | undefined
  /** @deprecated Use `hookTimeoutMs` (same value); removed in the next major version. */
  hookTimeout?: number | undefined
}

/** A passport strategy, ready for `passport.use()`. */
export interface ClientSecretStrategy extends PassportStrategy {
  /** The name to give `passport.authenticate()`. */
  readonly name: string
}

/** The defaults of {@link ClientSecretStrategyOptions}. */
const CLIENT_SECRET_STRATEGY_DEFAULTS: Readonly<{ realm: string; hookTimeoutMs: number }> =
  Object.freeze({ realm: 'ccflow', hookTimeoutMs: DEFAULT_HOOK_TIMEOUT_MS })

const STRATEGY_OPTIONS = {
  clients: true,
  secretPepper: true,
  realm: true,
  hookTimeoutMs: true,
  onEvent: true,
  hookTimeout: true,
} satisfies OptionTable<ClientSecretStrategyOptions>

const STRATEGY_ALIASES: OptionAliases = defineAliases<ClientSecretStrategyOptions>({
  hookTimeout: 'hookTimeoutMs',
})

/** Checked strategy options. */
export interface StrategyConfig {
  clients: ClientStore
  secretPepper: string | undefined
  realm: string
  hookTimeoutMs: number
  emit: EmitEvent
}

export function resolveStrategyOptions(
  options: ClientSecretStrategyOptions,
  where: string,
): StrategyConfig {
  checkObject(options, where)
  checkKnownKeys(options, STRATEGY_OPTIONS, where, '', { hidden: STRATEGY_ALIASES })
  const given = renameDeprecated(options, STRATEGY_ALIASES, where)
  const { clients } = given as { clients: unknown }
  if (
    typeof clients !== 'object' ||
    clients === null ||
    typeof (clients as { findClient?: unknown }).findClient !== 'function'
  ) {
    throw optionError(
      where,
      'clients',
      'is required and must be a ClientStore (an object with findClient(id))',
    )
  }
  const pepper = checkPepperOption(given.secretPepper, where)
  const d = CLIENT_SECRET_STRATEGY_DEFAULTS
  return {
    clients: clients as ClientStore,
    secretPepper: pepper,
    realm: checkString(given.realm, { where, path: 'realm' }, d.realm, REALM_RULE),
    hookTimeoutMs: checkInteger(
      given.hookTimeoutMs,
      { where, path: 'hookTimeoutMs' },
      HOOK_TIMEOUT_RANGE,
      d.hookTimeoutMs,
    ),
    emit: createEmitter(checkFunction(given.onEvent, { where, path: 'onEvent' }), {
      where,
      hasPepper: pepper !== undefined,
    }),
  }
}
