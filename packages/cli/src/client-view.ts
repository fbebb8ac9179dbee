import type { Client } from '@ccflow/issuer'

/** A secret as the commands print it: its id and expiry, never its hash. */
export interface SecretView {
  id: string
  /** Epoch seconds; absent when the secret never expires. */
  expires_at?: number
}

/** A client record as the commands print it: every field, but secrets without their hashes. */
export type ClientView = Omit<Client, 'secrets'> & { secrets?: SecretView[] }

/**
 * The printable form of a record: the hashes are left out (not secret, but of no use to a reader
 * and not to be copied around).
 */
export function clientView(client: Client): ClientView {
  const { secrets, ...rest } = client
  if (secrets === undefined) return { ...rest }
  return {
    ...rest,
    secrets: secrets.map((secret) =>
      secret.expires_at === undefined
        ? { id: secret.id }
        : { id: secret.id, expires_at: secret.expires_at },
    ),
  }
}

/** Pretty JSON and a newline, for `--json`. */
export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`
}

/**
 * A value from the database made safe to print on one line: control characters (a name imported
 * from a file may hold any) are written as `\uXXXX` escapes.
 */
export function printable(value: string): string {
  return value.replace(
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u001f\u007f-\u009f]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}

/** An epoch-seconds time as ISO 8601 UTC, without milliseconds. */
export function isoTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z')
}

/** `show`: one `field  value` line per field, the secrets one per line. */
export function clientText(client: Client): string {
  const lines: [string, string][] = [['client_id', client.client_id]]
  if (client.client_name !== undefined) lines.push(['client_name', client.client_name])
  lines.push(['state', client.disabled === true ? 'disabled' : 'enabled'])
  lines.push([
    'token_endpoint_auth_method',
    client.token_endpoint_auth_method ?? 'client_secret_basic or client_secret_post',
  ])
  lines.push(['scope', client.scope])
  if (client.default_scope !== undefined) lines.push(['default_scope', client.default_scope])
  lines.push(['audiences', client.audiences.join(' ')])
  if (client.default_audience !== undefined) {
    lines.push(['default_audience', client.default_audience])
  }
  if (client.access_token_ttl !== undefined) {
    lines.push(['access_token_ttl', `${client.access_token_ttl} s`])
  }
  if (client.introspection === true) lines.push(['introspection', 'allowed'])
  if (client.grant_types !== undefined) lines.push(['grant_types', client.grant_types.join(' ')])
  for (const secret of client.secrets ?? []) {
    const expiry = secret.expires_at === undefined ? '' : `  expires ${isoTime(secret.expires_at)}`
    lines.push(['secret', `${secret.id}${expiry}`])
  }
  if (client.jwks !== undefined) {
    const kids = client.jwks.keys.map((key) => (typeof key.kid === 'string' ? key.kid : '(no kid)'))
    lines.push(['jwks', `${client.jwks.keys.length} key(s): ${kids.join(' ')}`])
  }
  if (client.jwks_uri !== undefined) lines.push(['jwks_uri', client.jwks_uri])
  if (client.token_endpoint_auth_signing_alg !== undefined) {
    lines.push(['token_endpoint_auth_signing_alg', client.token_endpoint_auth_signing_alg])
  }
  if (client.max_assertion_lifetime !== undefined) {
    lines.push(['max_assertion_lifetime', `${client.max_assertion_lifetime} s`])
  }
  return columns(lines)
}

/** `list`: a header and one line per client. */
export function clientListText(clients: readonly Client[]): string {
  if (clients.length === 0) return 'no clients\n'
  const rows: string[][] = [['CLIENT_ID', 'STATE', 'AUTH', 'SCOPE']]
  for (const client of clients) {
    rows.push([
      client.client_id,
      client.disabled === true ? 'disabled' : 'enabled',
      client.token_endpoint_auth_method === 'private_key_jwt'
        ? 'private_key_jwt'
        : `${client.secrets?.length ?? 0} secret(s)`,
      client.scope,
    ])
  }
  return columns(rows)
}

/** Left-aligned columns two spaces apart; the last column is not padded. */
function columns(rows: readonly (readonly string[])[]): string {
  const cells = rows.map((row) => row.map(printable))
  const widths = (cells[0] as string[]).map((_, i) =>
    Math.max(...cells.map((row) => (row[i] as string).length)),
  )
  return cells
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] as number)))
        .join('  '),
    )
    .join('\n')
    .concat('\n')
}
