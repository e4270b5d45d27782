import type { JsonPatchOperation, KratosApi, KratosIdentity } from '../kratos/kratosClient.js';
import type { CallOptions } from '../outbound/retry.js';
import type { IdentityLocks } from './identityLocks.js';
import { mirrorOf, readRecord, type PersonaRecord } from './record.js';
import type { TransitionResult } from './transition.js';

export interface RecordStoreOptions {
  kratos: KratosApi;
  locks: IdentityLocks;
  publicMirror: boolean;
  approvedStatuses: ReadonlySet<string>;
}

export type StoredRecord = { found: false } | { found: true; identity: KratosIdentity; record: PersonaRecord | null };

export type UpdateResult = TransitionResult | { outcome: 'identity_not_found'; record: null };

export interface RecordStore {
  read(identityId: string, options?: CallOptions): Promise<StoredRecord>;
  /** Reads the record, lets `decide` transition it and writes the result when it was applied. */
  update(
    identityId: string,
    decide: (current: PersonaRecord | null) => TransitionResult,
    options?: CallOptions,
  ): Promise<UpdateResult>;
}

/**
 * Keeps the record in `metadata_admin.persona` and its mirror in `metadata_public.persona`. One
 * JSON Patch of exactly those paths: other metadata keys survive, and `replace` creates missing
 * parents when the metadata is still null (reference/kratos-actions.md, "Admin API").
 */
export function createRecordStore(options: RecordStoreOptions): RecordStore {
  const patchFor = (record: PersonaRecord): JsonPatchOperation[] => {
    const operations: JsonPatchOperation[] = [{ op: 'replace', path: '/metadata_admin/persona', value: record }];
    if (options.publicMirror) {
      operations.push({
        op: 'replace',
        path: '/metadata_public/persona',
        value: mirrorOf(record, options.approvedStatuses),
      });
    }
    return operations;
  };

  const read = async (identityId: string, callOptions?: CallOptions): Promise<StoredRecord> => {
    const identity = await options.kratos.getIdentity(identityId, callOptions);
    return identity === null ? { found: false } : { found: true, identity, record: readRecord(identity.metadataAdmin) };
  };

  return {
    read,
    update(identityId, decide, callOptions) {
      return options.locks.run(identityId, async () => {
        const stored = await read(identityId, callOptions);
        if (!stored.found) return { outcome: 'identity_not_found', record: null };
        const result = decide(stored.record);
        if (result.outcome === 'applied' && result.record !== null) {
          await options.kratos.patchIdentity(identityId, patchFor(result.record), callOptions);
        }
        return result;
      });
    },
  };
}
