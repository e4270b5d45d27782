-- The outbox: notifications written in the identity's transaction with the change they announce,
-- sent after it commits by the replica that leads `notifications` (src/notifications/relay.ts).
-- One row per message and channel; sent and given-up rows stay 7 days, then are pruned.
CREATE TABLE :"schema".outbox (
  id bigserial PRIMARY KEY,
  message_id text NOT NULL,
  channel text NOT NULL,
  body jsonb NOT NULL,
  -- With `oncePer`: no second message with this key within its interval (one email per person).
  limit_key text,
  attempts integer NOT NULL DEFAULT 0,
  enqueued_at timestamptz NOT NULL DEFAULT now(),
  due_at timestamptz NOT NULL DEFAULT now(),
  leased_until timestamptz,
  settled_at timestamptz,
  outcome text,
  UNIQUE (channel, message_id)
);

CREATE INDEX outbox_due ON :"schema".outbox (due_at) WHERE settled_at IS NULL;
CREATE INDEX outbox_limit ON :"schema".outbox (limit_key, enqueued_at) WHERE limit_key IS NOT NULL;
CREATE INDEX outbox_settled ON :"schema".outbox (settled_at) WHERE settled_at IS NOT NULL;
