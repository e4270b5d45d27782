import type { z } from 'zod';
import type { AdminContext } from './adminContext.js';
import type { AdminErrorCode } from './adminErrors.js';

/**
 * One admin route, described once: the router validates with its schemas and the OpenAPI document
 * is generated from them (openApiDocument.ts), so the two cannot drift apart.
 */
export interface AdminRoute<
  Params extends z.ZodType = z.ZodType,
  Query extends z.ZodType = z.ZodType,
  Body extends z.ZodType = z.ZodType,
  Result extends z.ZodType = z.ZodType,
> {
  method: 'get' | 'post';
  /** In OpenAPI's form, `/admin/identities/{id}/verification`. */
  path: string;
  operationId: string;
  summary: string;
  description: string;
  params?: Params;
  query?: Query;
  body?: Body;
  response: { description: string; schema: Result };
  /** The errors it may answer besides those of every route (unauthorized, invalid_request, ...). */
  errors: AdminErrorCode[];
  handle(
    input: { params: z.output<Params>; query: z.output<Query>; body: z.output<Body> },
    context: AdminContext,
  ): Promise<z.input<Result>>;
}

/** Keeps each route's types while the table holds them side by side. */
export const defineRoute = <P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType, R extends z.ZodType>(
  route: AdminRoute<P, Q, B, R>,
): AdminRoute => route as unknown as AdminRoute;
