import { createHmac, hkdfSync } from 'node:crypto';
import { normalisedIdentifier } from './normalisedIdentifier.js';

/** A key of its own per link signing key, so a decoy can never be told from, or used as, anything else. */
const keyFor = (linkKey: Buffer) =>
  Buffer.from(hkdfSync('sha256', linkKey, 'ory-persona-idv', 'recovery decoy reference', 32));

/**
 * The Persona reference id of a recovery whose identifier names no recoverable identity: a UUID
 * like an identity id, derived from the identifier as Kratos normalises identifiers (trimmed,
 * lowercased). Persona appends the reference id to the redirect back after the flow
 * (reference/persona-api.md), so an identifier that named no account must bring one back too, and
 * the same one on every try, as a real account's does; derived with a key, it says nothing about
 * the identifier. Its inquiries' webhooks name no identity and are acknowledged as such.
 */
export function decoyReferenceId(identifier: string, linkKey: Buffer): string {
  const bytes = createHmac('sha256', keyFor(linkKey)).update(normalisedIdentifier(identifier)).digest().subarray(0, 16);
  // Version 4 and the RFC 4122 variant, as Kratos's identity ids have.
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
