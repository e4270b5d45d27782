-- The redaction sweeps (src/privacy/sweep/): when an identity's reference id was first found
-- missing from Kratos (Kratos keeps nothing of a deleted identity), so its Persona data is redacted
-- only after REDACT_DELETED_AFTER; a row goes once the data is redacted or the identity is back.
CREATE TABLE :"schema".missing_identities (
  reference_id text PRIMARY KEY,
  first_missing_at timestamptz NOT NULL
);

-- Where an unfinished run of each sweep stopped, so the next run, on any replica, goes on from there.
CREATE TABLE :"schema".sweep_cursors (
  sweep text PRIMARY KEY,
  template_id text NOT NULL,
  after_id text,
  saved_at timestamptz NOT NULL DEFAULT now()
);
