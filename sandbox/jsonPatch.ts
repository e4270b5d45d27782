/**
 * JSON Patch as Kratos's `PATCH /admin/identities/{id}` applies it (reference/kratos-actions.md,
 * "Admin API"): only add, remove and replace; `replace` of a non-array member acts as `add`; missing
 * parents are created; removing a missing path fails. The whole patch applies or nothing does.
 */

export class PatchError extends Error {}

type Json = unknown;
type Container = Record<string, Json> | Json[];

const UNSAFE_TOKENS = new Set(['__proto__', 'constructor', 'prototype']);

const decodePointer = (path: string): string[] => {
  if (!path.startsWith('/')) throw new PatchError(`path "${path}" is not a JSON pointer`);
  const tokens = path
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (tokens.some((token) => UNSAFE_TOKENS.has(token))) throw new PatchError('unsafe path');
  return tokens;
};

const isContainer = (value: Json): value is Container => value !== null && typeof value === 'object';

function parentOf(document: Record<string, Json>, tokens: string[], create: boolean): Container {
  let node: Json = document;
  for (const token of tokens.slice(0, -1)) {
    if (!isContainer(node)) throw new PatchError('path runs through a non-container');
    const record = node as Record<string, Json>;
    if (!isContainer(record[token] ?? null)) {
      if (!create || Array.isArray(node)) throw new PatchError(`missing parent "${token}"`);
      record[token] = {};
    }
    node = record[token];
  }
  if (!isContainer(node)) throw new PatchError('parent is not a container');
  return node;
}

function add(document: Record<string, Json>, tokens: string[], value: Json) {
  const parent = parentOf(document, tokens, true);
  const key = tokens[tokens.length - 1] as string;
  if (Array.isArray(parent)) {
    const index = key === '-' ? parent.length : Number(key);
    if (!Number.isInteger(index) || index < 0 || index > parent.length)
      throw new PatchError('array index out of range');
    parent.splice(index, 0, value);
  } else {
    parent[key] = value;
  }
}

function remove(document: Record<string, Json>, tokens: string[]) {
  const parent = parentOf(document, tokens, false);
  const key = tokens[tokens.length - 1] as string;
  if (Array.isArray(parent)) {
    const index = Number(key);
    if (!Number.isInteger(index) || index < 0 || index >= parent.length)
      throw new PatchError('array index out of range');
    parent.splice(index, 1);
  } else {
    if (!Object.hasOwn(parent, key)) throw new PatchError(`cannot remove missing path`);
    delete parent[key];
  }
}

function replaceInArray(document: Record<string, Json>, tokens: string[], value: Json): boolean {
  const parent = parentOf(document, tokens, true);
  if (!Array.isArray(parent)) return false;
  const index = Number(tokens[tokens.length - 1]);
  if (!Number.isInteger(index) || index < 0 || index >= parent.length) throw new PatchError('array index out of range');
  parent[index] = value;
  return true;
}

export interface PatchOperation {
  op: string;
  path: string;
  value?: Json;
}

export function applyJsonPatch<T extends Record<string, Json>>(document: T, operations: PatchOperation[]): T {
  const copy = structuredClone(document) as Record<string, Json>;
  for (const operation of operations) {
    const tokens = decodePointer(operation.path);
    if (tokens.length === 0 || tokens[0] === '') throw new PatchError('cannot patch the whole document');
    switch (operation.op) {
      case 'add':
        add(copy, tokens, operation.value);
        break;
      case 'replace':
        if (!replaceInArray(copy, tokens, operation.value)) add(copy, tokens, operation.value);
        break;
      case 'remove':
        remove(copy, tokens);
        break;
      default:
        throw new PatchError(`unsupported patch operation "${operation.op}"`);
    }
  }
  return copy as T;
}
