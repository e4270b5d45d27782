import type { RequestListener } from 'node:http';
import request from 'supertest';
import { ADMIN_ROUTES } from '../../src/admin/adminRoutes.js';
import { openApiDocument } from '../../src/admin/openApiDocument.js';
import { checkOperation, describeViolation } from './conformance/checkExchange.js';
import { OpenApiDocument } from './conformance/openApiDocument.js';
import { startHarness, type Harness } from './harness.js';

export const ADMIN_TOKEN = 'admin-token-0123456789abcdefghij';
export const PUBLIC_BASE_URL = 'https://idv.example.com';

/** The admin API on, behind ADMIN_TOKEN, with links built on PUBLIC_BASE_URL. */
export const ADMIN_ENV = {
  ADMIN_API_TOKEN: ADMIN_TOKEN,
  PUBLIC_BASE_URL,
  RETURN_TO_ALLOWLIST: 'https://app.example.com',
};

export const startAdminHarness = (env: Record<string, string | undefined> = {}) =>
  startHarness({ ...ADMIN_ENV, ...env });

/** The generated document, as the conformance suite reads published ones. */
export const ADMIN_DOCUMENT = new OpenApiDocument('admin', openApiDocument(ADMIN_ROUTES), '3.1');

/**
 * Every answer of the admin API is held to its own OpenAPI document: its status must be documented
 * for the route, and its body must match the documented schema.
 */
function holdToDocument(response: request.Response, method: string, path: string) {
  const url = new URL(path, 'http://admin');
  const violations = checkOperation(
    ADMIN_DOCUMENT,
    'admin',
    { method, path: url.pathname, query: url.searchParams, headers: {}, body: undefined, rawBody: '' },
    {
      status: response.status,
      headers: response.headers as Record<string, string>,
      body: response.body as unknown,
      rawBody: response.text,
    },
  ).filter((violation) => violation.side === 'response');
  if (violations.length > 0) {
    throw new Error(
      `The admin API's answer departs from its document:\n  ${violations.map(describeViolation).join('\n  ')}`,
    );
  }
}

export interface AdminClient {
  get(path: string, token?: string | null): Promise<request.Response>;
  post(path: string, body: unknown, token?: string | null): Promise<request.Response>;
}

/** Calls the admin API of `app` with the token (`null`: none), checking each answer against the document. */
export function adminClient(app: RequestListener, defaultToken: string = ADMIN_TOKEN): AdminClient {
  const authorize = (test: request.Test, token: string | null | undefined) => {
    const chosen = token === undefined ? defaultToken : token;
    return chosen === null ? test : test.set('Authorization', `Bearer ${chosen}`);
  };
  return {
    async get(path, token) {
      const response = await authorize(request(app).get(path), token);
      holdToDocument(response, 'GET', path);
      return response;
    },
    async post(path, body, token) {
      const response = await authorize(request(app).post(path).set('Content-Type', 'application/json'), token).send(
        JSON.stringify(body),
      );
      holdToDocument(response, 'POST', path);
      return response;
    },
  };
}

export const admin = (harness: Harness) => adminClient(harness.app);

/** The audit lines the service logged. */
export const auditLines = (harness: Harness) => harness.logs.filter((line) => line['msg'] === 'admin action');
