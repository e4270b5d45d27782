import { createHash } from 'node:crypto';

/**
 * Advisory locks are named by two 32-bit integers: a namespace of ours (the first key) and a hash
 * of what is locked (the second). A collision of hashes only makes two identities wait for each
 * other now and then; it never lets two writers into one identity.
 */
const NAMESPACE = {
  identity: 0x50_49_44_01,
  leadership: 0x50_49_44_02,
  migrations: 0x50_49_44_03,
  shortCodes: 0x50_49_44_04,
} as const;

export type AdvisoryKey = readonly [namespace: number, key: number];

const hash32 = (text: string) => createHash('sha256').update(text).digest().readInt32BE(0);

/** Shared by every deployment on the database, whatever its schema: they write the same Kratos identities. */
export const identityKey = (identityId: string): AdvisoryKey => [NAMESPACE.identity, hash32(identityId)];

/** Per schema, so that two deployments sharing a database each have their leader. */
export const leadershipKey = (schema: string, name: string): AdvisoryKey => [
  NAMESPACE.leadership,
  hash32(`${schema}/${name}`),
];

export const migrationsKey = (schema: string): AdvisoryKey => [NAMESPACE.migrations, hash32(schema)];

/** An identity's short codes, per schema: issuing one replaces the others, one issuer at a time. */
export const shortCodesKey = (schema: string, identityId: string): AdvisoryKey => [
  NAMESPACE.shortCodes,
  hash32(`${schema}/${identityId}`),
];
