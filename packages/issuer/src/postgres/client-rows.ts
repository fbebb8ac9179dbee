import { type Client, validateClient } from '../clients/client-store.js'

/**
 * The one statement a lookup costs: the client row and its unrevoked secrets (expired ones too,
 * with their `expires_at`, which the endpoint checks), in one round trip.
 *
 * @internal
 */
export const SELECT_CLIENT_SQL = `SELECT c.client_id, c.metadata, c.disabled,
  COALESCE(
    json_agg(json_build_object(
      'id', s.secret_id,
      'hash', s.hash,
      'expires_at', floor(extract(epoch FROM s.expires_at))::bigint
    ) ORDER BY s.created_at, s.secret_id) FILTER (WHERE s.secret_id IS NOT NULL),
    '[]'::json
  ) AS secrets
FROM ccflow_clients c
LEFT JOIN ccflow_client_secrets s ON s.client_id = c.client_id AND s.revoked_at IS NULL`

/**
 * A row of {@link SELECT_CLIENT_SQL}.
 *
 * @internal
 */
export interface ClientRow {
  client_id: string
  metadata: Record<string, unknown>
  disabled: boolean
  secrets: { id: string; hash: string; expires_at: number | null }[]
}

// Fields kept in columns of their own, never in `metadata`.
const COLUMN_FIELDS: ReadonlySet<string> = new Set(['client_id', 'secrets', 'disabled'])

/**
 * Turns a row back into the checked, frozen record the token endpoint reads.
 *
 * @internal
 * @throws {TypeError} From {@link validateClient}, naming the field, when a row holds a record
 *   that is not valid (edited by hand, say).
 */
export function clientFromRow(row: ClientRow): Client {
  const record: Record<string, unknown> = { ...row.metadata, client_id: row.client_id }
  if (row.disabled) record.disabled = true
  if (record.token_endpoint_auth_method !== 'private_key_jwt') {
    record.secrets = row.secrets.map(({ id, hash, expires_at }) =>
      expires_at === null ? { id, hash } : { id, hash, expires_at },
    )
  }
  return validateClient(record, 'ccflow_clients row')
}

/**
 * The `metadata` column of a checked record: everything but the column fields.
 *
 * @internal
 */
export function metadataOf(client: Client): Record<string, unknown> {
  const metadata: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(client)) {
    if (!COLUMN_FIELDS.has(key) && value !== undefined) metadata[key] = value
  }
  return metadata
}
