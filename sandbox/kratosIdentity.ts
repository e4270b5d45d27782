import type { Credentials } from './kratosCredentials.js';

/**
 * An identity as the Kratos stand-in keeps it: the admin API's `identity` with `metadata_admin`
 * and its credentials (their secrets never leave the stand-in).
 */
export interface StandInIdentity {
  id: string;
  schema_id: string;
  schema_url: string;
  state: 'active' | 'inactive';
  state_changed_at: string;
  traits: Record<string, unknown>;
  verifiable_addresses: unknown[];
  recovery_addresses: unknown[];
  metadata_public: Record<string, unknown> | null;
  metadata_admin: Record<string, unknown> | null;
  created_at: string;
  updated_at: string;
  organization_id: string | null;
  credentials: Credentials;
}
