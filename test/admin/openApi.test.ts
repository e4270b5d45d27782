import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { Router } from 'express';
import type { z } from 'zod';
import { afterEach, describe, expect, it } from 'vitest';
import { adminRouter } from '../../src/admin/adminApi.js';
import type { AdminContext } from '../../src/admin/adminContext.js';
import { ADMIN_ERRORS } from '../../src/admin/adminErrors.js';
import { ADMIN_ROUTES } from '../../src/admin/adminRoutes.js';
import { openApiDocument } from '../../src/admin/openApiDocument.js';
import type { verificationResponse } from '../../src/admin/schemas.js';
import type {
  Decision,
  PersonaRecord,
  PurposeResult,
  RecoveryCodeIssued,
  RedactionState,
} from '../../src/verification/record.js';
import type { ReverificationRequirement } from '../../src/verification/reverification.js';
import { ADMIN_DOCUMENT, admin, startAdminHarness } from '../support/admin.js';
import { checkOperation } from '../support/conformance/checkExchange.js';
import type { Harness } from '../support/harness.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

type Json = Record<string, unknown>;

/** Whether two object types have exactly the same fields (checked when the tests compile). */
type SameKeys<A, B> = [keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : false) : false;
type Documented = NonNullable<z.input<typeof verificationResponse>['record']>;
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/** Every `METHOD /path` an Express router serves, nested routers included. */
function served(router: Router): string[] {
  const routes: string[] = [];
  for (const layer of router.stack as { route?: { path: string; methods: Json }; handle: { stack?: unknown } }[]) {
    if (layer.route !== undefined) {
      for (const method of Object.keys(layer.route.methods)) routes.push(`${method.toUpperCase()} ${layer.route.path}`);
    } else if (Array.isArray(layer.handle.stack)) {
      routes.push(...served(layer.handle as unknown as Router));
    }
  }
  return routes;
}

/** Every `METHOD /path` the document describes, in Express's form. */
function documented(document: Json): string[] {
  return Object.entries(document['paths'] as Record<string, Json>).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((key) => METHODS.includes(key))
      .map((method) => `${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`),
  );
}

/** Every Schema Object of the document, with where it is. */
function schemasOf(node: unknown, at = ''): { at: string; schema: Json }[] {
  if (node === null || typeof node !== 'object') return [];
  const found: { at: string; schema: Json }[] = [];
  for (const [key, value] of Object.entries(node as Json)) {
    if (key === 'schema' && value !== null && typeof value === 'object')
      found.push({ at: `${at}/schema`, schema: value as Json });
    else found.push(...schemasOf(value, `${at}/${key}`));
  }
  return found;
}

describe('the OpenAPI document of the admin API', () => {
  it('is served at /admin/openapi.json and validates as OpenAPI 3.1', async () => {
    harness = await startAdminHarness();
    const response = await admin(harness).get('/admin/openapi.json');
    expect(response.status).toBe(200);
    const validator = new Validator();
    const result = await validator.validate(response.body as Parameters<Validator['validate']>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(response.body).toEqual(openApiDocument(ADMIN_ROUTES));
  });

  it('has schemas that are valid JSON Schema 2020-12, the dialect of OpenAPI 3.1', () => {
    const document = openApiDocument(ADMIN_ROUTES);
    const components = (document['components'] as { schemas: Record<string, Json> }).schemas;
    const ajv = new Ajv2020({ strict: true, strictTypes: false, allErrors: true });
    addFormats.default(ajv);
    for (const [name, schema] of Object.entries(components)) ajv.addSchema(schema, name);
    const schemas = schemasOf(document['paths'], '/paths');
    expect(schemas.length).toBeGreaterThan(10);
    for (const { at, schema } of schemas) {
      const resolved = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', '"')) as Json;
      expect(() => ajv.compile(resolved), at).not.toThrow();
    }
  });

  it('documents every field of the record the service writes: a new field fails to compile here until documented', () => {
    const fields: [
      SameKeys<Documented, PersonaRecord>,
      SameKeys<NonNullable<Documented['decision']>, Decision>,
      SameKeys<NonNullable<Documented['purposes']['onboarding']>, PurposeResult>,
      SameKeys<NonNullable<Documented['recovery_code']>, RecoveryCodeIssued>,
      SameKeys<NonNullable<Documented['reverification']>, ReverificationRequirement>,
      SameKeys<NonNullable<Documented['redaction']>, RedactionState>,
    ] = [true, true, true, true, true, true];
    expect(fields).toEqual([true, true, true, true, true, true]);
  });

  it('documents every route served, and every route documented is served', async () => {
    harness = await startAdminHarness();
    const router = adminRouter({ config: harness.config } as AdminContext, ['token-0123456789abcdef0123']);
    const document = openApiDocument(ADMIN_ROUTES);
    expect(served(router).sort()).toEqual(documented(document).sort());
    expect(documented(document)).toHaveLength(ADMIN_ROUTES.length);
  });

  it('answers every documented route with a token, none with 404', async () => {
    harness = await startAdminHarness();
    const { id } = harness.kratos.createIdentity();
    for (const route of documented(openApiDocument(ADMIN_ROUTES))) {
      const [method, path] = route.split(' ') as [string, string];
      const url = path.replace(':id', id);
      const response = method === 'GET' ? await admin(harness).get(url) : await admin(harness).post(url, {});
      expect({ route, status: response.status }).not.toEqual({ route, status: 404 });
    }
  });

  it('lists every error code in one shape, and the check of answers against it can fail', () => {
    const document = openApiDocument(ADMIN_ROUTES) as { components: { schemas: { Error: Json } } };
    expect(JSON.stringify(document.components.schemas.Error)).toContain(JSON.stringify(Object.keys(ADMIN_ERRORS)));
    const answer = (status: number, body: unknown) =>
      checkOperation(
        ADMIN_DOCUMENT,
        'admin',
        {
          method: 'GET',
          path: '/admin/audit',
          query: new URLSearchParams(),
          headers: {},
          body: undefined,
          rawBody: '',
        },
        { status, headers: { 'content-type': 'application/json' }, body, rawBody: JSON.stringify(body) },
      ).filter((violation) => violation.side === 'response');
    expect(answer(200, { entries: [] })).toEqual([]);
    expect(answer(200, { entries: [{ id: 1 }] }).length).toBeGreaterThan(0);
    expect(answer(404, { error: { code: 'not_found', message: 'x' } })).toEqual([
      expect.objectContaining({ field: 'status', message: '404 is not an answer the operation documents' }),
    ]);
    expect(answer(501, { error: { code: 'no_such_code', message: 'x' } }).length).toBeGreaterThan(0);
  });

  it("matches the README's table of error codes", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const rows = [...readme.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \|/gm)].map((match) => [match[1], Number(match[2])]);
    expect(rows.sort()).toEqual(
      Object.entries(ADMIN_ERRORS)
        .map(([code, { status }]) => [code, status])
        .sort(),
    );
  });
});
