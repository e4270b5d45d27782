import { describe, expect, it } from 'vitest';
import { isIdentityId } from '../../src/identityId.js';
import { decoyReferenceId } from '../../src/recovery/decoyReference.js';

const KEY = Buffer.from('recovery-test-key-0123456789abcdef');
const OTHER = Buffer.from('another-key-0123456789abcdef-xyz');
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('decoy reference ids', () => {
  it('look like an identity id, as Kratos makes them', () => {
    const decoy = decoyReferenceId('nobody@example.com', KEY);
    expect(decoy).toMatch(UUID_V4);
    expect(isIdentityId(decoy)).toBe(true);
  });

  it('are the same on every try for one identifier, as Kratos normalises it', () => {
    const decoy = decoyReferenceId('nobody@example.com', KEY);
    expect(decoyReferenceId('nobody@example.com', KEY)).toBe(decoy);
    expect(decoyReferenceId('  NoBody@Example.com ', KEY)).toBe(decoy);
  });

  it('differ between identifiers and keys, and never show the identifier', () => {
    const decoy = decoyReferenceId('nobody@example.com', KEY);
    expect(decoyReferenceId('somebody@example.com', KEY)).not.toBe(decoy);
    expect(decoyReferenceId('nobody@example.com', OTHER)).not.toBe(decoy);
    expect(decoy).not.toContain(Buffer.from('nobody').toString('hex').slice(0, 8));
  });
});
