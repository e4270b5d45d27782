-- The inbox: ids of the Persona events applied, written in the same transaction as the identity's
-- lock, so a redelivered event is recognised on any replica. Rows older than 7 days are pruned
-- (Persona stops redelivering after about 51 hours).
CREATE TABLE :"schema".inbox (
  event_id text PRIMARY KEY,
  applied_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX inbox_applied_at ON :"schema".inbox (applied_at);
