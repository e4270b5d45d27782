import { randomUUID } from 'node:crypto';
import type { StandInIdentity } from './kratosIdentity.js';

/**
 * The recovery and verifiable addresses Kratos derives from the traits its identity schema marks
 * (docker/kratos/identity.schema.json: `email`, for recovery and verification by email), as it
 * does whenever traits are written, before any settings hook runs (ory/kratos identity/manager.go,
 * ValidateIdentity). Values are lowercased and trimmed, as Kratos stores them; an address whose
 * value stays keeps its id and its state.
 */
export function withAddresses(identity: StandInIdentity, now: string): StandInIdentity {
  const email = identity.traits['email'];
  const value = typeof email === 'string' ? email.trim().toLowerCase() : undefined;
  const kept = (list: unknown[]) =>
    list.filter((address) => (address as { value?: unknown }).value === value && value !== undefined);
  const verifiable = kept(identity.verifiable_addresses);
  const recovery = kept(identity.recovery_addresses);
  return {
    ...identity,
    verifiable_addresses:
      value === undefined || verifiable.length > 0
        ? verifiable
        : [
            {
              id: randomUUID(),
              value,
              verified: false,
              via: 'email',
              // Not verified until the person follows Kratos's own email.
              status: 'sent',
              created_at: now,
              updated_at: now,
            },
          ],
    recovery_addresses:
      value === undefined || recovery.length > 0
        ? recovery
        : [{ id: randomUUID(), value, via: 'email', created_at: now, updated_at: now }],
  };
}
