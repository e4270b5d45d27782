import { z } from 'zod';
import type { AdminRoute } from './adminRoute.js';
import { ADMIN_ERRORS, type AdminErrorCode } from './adminErrors.js';
import { errorResponse } from './schemas.js';

type JsonSchema = Record<string, unknown>;

/** A zod schema as an OpenAPI 3.1 Schema Object (JSON Schema 2020-12, without `$schema`). */
function schemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io });
  return rest;
}

function parametersOf(schema: z.ZodType | undefined, location: 'path' | 'query'): JsonSchema[] {
  if (!(schema instanceof z.ZodObject)) return [];
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([name, field]) => {
    const { description, ...fieldSchema } = schemaOf(field, 'input');
    return {
      name,
      in: location,
      required: location === 'path' || !field.safeParse(undefined).success,
      ...(description !== undefined && { description }),
      schema: fieldSchema,
    };
  });
}

/** The errors a route can answer: its own, and those of every route (and of every route with a body). */
function errorsOf(route: AdminRoute): AdminErrorCode[] {
  const common: AdminErrorCode[] = ['unauthorized', 'internal_error'];
  const validated: AdminErrorCode[] = route.params || route.query || route.body ? ['invalid_request'] : [];
  const withBody: AdminErrorCode[] = route.body
    ? [
        'invalid_json',
        'invalid_encoding',
        'request_aborted',
        'request_timeout',
        'unsupported_media_type',
        'unsupported_encoding',
        'payload_too_large',
      ]
    : [];
  return [...common, ...validated, ...withBody, ...route.errors];
}

function errorResponsesOf(route: AdminRoute): Record<string, JsonSchema> {
  const byStatus = new Map<number, AdminErrorCode[]>();
  for (const code of errorsOf(route)) {
    const { status } = ADMIN_ERRORS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, codes]) => [
      String(status),
      {
        description: codes.map((code) => `\`${code}\`: ${ADMIN_ERRORS[code].when}`).join(' '),
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
    ]),
  );
}

/**
 * The admin API as an OpenAPI 3.1 document, generated from the same route table and zod schemas
 * the routes validate with (`GET /admin/openapi.json`, `npm run admin -- openapi`).
 */
export function openApiDocument(routes: readonly AdminRoute[]): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    const parameters = [...parametersOf(route.params, 'path'), ...parametersOf(route.query, 'query')];
    (paths[route.path] ??= {})[route.method] = {
      operationId: route.operationId,
      summary: route.summary,
      description: route.description,
      tags: ['admin'],
      ...(parameters.length > 0 && { parameters }),
      ...(route.body !== undefined && {
        requestBody: { required: true, content: { 'application/json': { schema: schemaOf(route.body, 'input') } } },
      }),
      responses: {
        '200': {
          description: route.response.description,
          content: { 'application/json': { schema: schemaOf(route.response.schema, 'output') } },
        },
        ...errorResponsesOf(route),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'ory-persona-idv admin API',
      version: '1.0.0',
      description:
        'For help-desk agents and operators: read a verification, send a link or a short code, require a new ' +
        'verification of one identity or a cohort, read the audit. Off unless ADMIN_API_TOKEN is set; keep it ' +
        'private (ADMIN_PORT). Errors are `{"error": {"code", "message"}}`.',
    },
    security: [{ bearerAuth: [] }],
    components: {
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: 'One of ADMIN_API_TOKEN (a comma list while rotating).',
        },
      },
      schemas: { Error: schemaOf(errorResponse, 'output') },
    },
    paths,
  };
}
