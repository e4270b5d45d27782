-- The admin API's short codes (src/admin/shortCodes/): live codes until used, expired or destroyed,
-- so that a code one replica issued is redeemed on any. The secret is kept only as a keyed digest.
CREATE TABLE :"schema".short_codes (
  handle text PRIMARY KEY,
  secret_digest bytea NOT NULL,
  identity_id uuid NOT NULL,
  purpose text NOT NULL,
  return_to text,
  expires_at timestamptz NOT NULL,
  attempts_left integer NOT NULL,
  issued_by text NOT NULL,
  issued_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX short_codes_identity_id ON :"schema".short_codes (identity_id);
CREATE INDEX short_codes_expires_at ON :"schema".short_codes (expires_at);

-- The audit of admin actions (src/admin/audit/): who did what to which identity, or to a cohort of
-- how many, and how it ended. Ids, codes and times only; kept until the operator deletes rows.
CREATE TABLE :"schema".audit_log (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL,
  actor text NOT NULL,
  action text NOT NULL,
  identity_id uuid,
  cohort_size integer,
  outcome text NOT NULL,
  details jsonb NOT NULL DEFAULT '{}'
);

CREATE INDEX audit_log_identity_id ON :"schema".audit_log (identity_id, id DESC);
