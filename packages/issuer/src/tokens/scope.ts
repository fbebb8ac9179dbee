import { parseScope } from '@ccflow/core'
import type { Client } from '../clients/client-store.js'
import { InvalidScopeError, InvalidTargetError } from '../errors.js'

/** What the policy needs from a client record, parsed once per record object. */
interface ClientPolicy {
  scopes: ReadonlySet<string>
  defaultScope: string
  audiences: ReadonlySet<string>
  defaultAudience: string
}

// Keyed by the record object: a static store hands out the same objects for the life of the
// process, so each client's scope strings are parsed once; a reloaded store gets fresh entries
// and the old ones are collected with their records.
const policies = new WeakMap<Client, ClientPolicy>()

function policyOf(client: Client): ClientPolicy {
  let policy = policies.get(client)
  if (policy === undefined) {
    const scopes = client.scope === '' ? [] : (parseScope(client.scope) ?? [])
    const defaultScope =
      client.default_scope === undefined
        ? scopes.join(' ')
        : (parseScope(client.default_scope) ?? []).join(' ')
    policy = {
      scopes: new Set(scopes),
      defaultScope,
      audiences: new Set(client.audiences),
      defaultAudience: client.default_audience ?? client.audiences[0] ?? '',
    }
    policies.set(client, policy)
  }
  return policy
}

/**
 * The scope to grant: the requested scope if every token is allowed for the client, else the
 * client's default scope when nothing was requested.
 *
 * @param requested - The `scope` parameter, or `undefined` when absent (an empty value counts
 *   as absent, RFC 6749 §3.2).
 * @returns The granted scope as a normalized space-delimited string (duplicates removed).
 * @throws {InvalidScopeError} When the scope is malformed or exceeds the client's scope.
 * @see RFC 6749 §3.3, §4.4.2
 */
export function grantScope(client: Client, requested: string | undefined): string {
  const policy = policyOf(client)
  if (requested === undefined) return policy.defaultScope
  const tokens = parseScope(requested)
  if (tokens === undefined) {
    throw new InvalidScopeError('The scope parameter is malformed.', { reason: 'malformed_scope' })
  }
  for (const token of tokens) {
    if (!policy.scopes.has(token)) {
      throw new InvalidScopeError('The requested scope exceeds the scope granted to the client.', {
        reason: 'scope_not_allowed',
      })
    }
  }
  return tokens.join(' ')
}

/**
 * Whether `value` is an RFC 8707 §2 resource indicator: an absolute URI without a fragment.
 * RFC 3986 §4.3: absolute-URI = scheme ":" hier-part [ "?" query ].
 */
export function isResourceIndicator(value: string): boolean {
  return (
    !value.includes('#') && /^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$/.test(value) && URL.canParse(value)
  )
}

/**
 * The `aud` of the token: the requested targets if every one is among the client's audiences,
 * else the client's default audience when nothing was requested.
 *
 * `resources` come from the RFC 8707 `resource` parameter and must be absolute URIs without a
 * fragment. `audiences` come from the `audience` alias (RFC 8693 §2.1 names a logical audience,
 * so any value is allowed if the client may use it). Duplicates collapse; one target gives a
 * string `aud`, several give an array, in request order.
 *
 * @throws {InvalidTargetError} When a value is malformed or not allowed for the client.
 * @see RFC 8707 §2, RFC 9068 §3
 */
export function selectAudience(
  client: Client,
  resources: readonly string[],
  audiences: readonly string[],
): string | string[] {
  const policy = policyOf(client)
  if (resources.length === 0 && audiences.length === 0) return policy.defaultAudience
  for (const resource of resources) {
    if (!isResourceIndicator(resource)) {
      throw new InvalidTargetError(
        'The resource parameter must be an absolute URI without a fragment.',
        {
          reason: 'malformed_resource',
        },
      )
    }
  }
  const selected = new Set<string>()
  for (const target of [...resources, ...audiences]) {
    if (!policy.audiences.has(target)) {
      throw new InvalidTargetError(
        'The requested resource or audience is not allowed for this client.',
        {
          reason: 'target_not_allowed',
        },
      )
    }
    selected.add(target)
  }
  const list = [...selected]
  return list.length === 1 ? (list[0] as string) : list
}
