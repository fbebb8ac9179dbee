/**
 * Schema version 1: clients, their secrets (hashes only) and the audit trail.
 *
 * @internal
 */
export const INITIAL_SCHEMA = `
CREATE TABLE ccflow_clients (
  client_id   text        PRIMARY KEY CHECK (client_id ~ '^[\\x20-\\x7e]{1,255}$'),
  -- The RFC 7591 record without client_id, secrets and disabled (those have their own columns).
  metadata    jsonb       NOT NULL CHECK (jsonb_typeof(metadata) = 'object'),
  disabled    boolean     NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ccflow_client_secrets (
  client_id   text        NOT NULL REFERENCES ccflow_clients (client_id) ON DELETE CASCADE,
  secret_id   text        NOT NULL CHECK (secret_id ~ '^[A-Za-z0-9-]{1,32}$'),
  -- hashClientSecret output ($hmac-sha256$… or $scrypt$…), never the secret.
  hash        text        NOT NULL CHECK (hash LIKE '$%'),
  expires_at  timestamptz,
  revoked_at  timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (client_id, secret_id)
);

-- No foreign key: the trail of a deleted client stays.
CREATE TABLE ccflow_audit (
  id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  actor       text        NOT NULL,
  action      text        NOT NULL CHECK (action IN ('created', 'updated', 'secret_added',
                'secret_revoked', 'disabled', 'enabled', 'deleted', 'imported')),
  client_id   text        NOT NULL,
  detail      jsonb       NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX ccflow_audit_client_id ON ccflow_audit (client_id, id);
`
