import type { ErrorObject } from 'ajv';
import type { Exchange } from '../../../sandbox/exchangeInspection.js';
import { OpenApiDocument, pointerOf, type Located, type Operation } from './openApiDocument.js';

/** One way an exchange departs from the published document, naming the operation and the field. */
export interface Violation {
  /** The published API (`kratos`, `persona`, `persona-webhook`), or the service's own (`admin`). */
  api: string;
  operation: string;
  /** Who broke it: the service (its request) or the stand-in (its answer, or a webhook it sent). */
  side: 'request' | 'response';
  /** Where: `body /data/attributes/status`, `query page[size]`, `header Persona-Version`, ... */
  field: string;
  message: string;
}

export const describeViolation = (violation: Violation) =>
  `${violation.api} ${violation.operation}: ${violation.side} ${violation.field}: ${violation.message}`;

const fixture = (path: string) => new URL(`../../fixtures/openapi/${path}`, import.meta.url);

export const KRATOS_DOCUMENT = new OpenApiDocument('kratos', fixture('kratos-v26.2.0/api.json'), '3.0');
export const PERSONA_DOCUMENT = new OpenApiDocument(
  'persona',
  fixture('persona-2025-12-08/openapi-bundled.json'),
  '3.1',
);

type Json = Parameters<OpenApiDocument['deref']>[0]['node'];
type JsonObject = { [key: string]: Json };
const isObject = (value: unknown): value is JsonObject =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Ajv's errors as fields: the JSON pointer of the offending value, the missing or extra member named. */
function schemaViolations(errors: ErrorObject[], where: string): { field: string; message: string }[] {
  return errors.map((error) => {
    const { params } = error as { params: Record<string, unknown> };
    const member = params['missingProperty'] ?? params['additionalProperty'] ?? params['unevaluatedProperty'];
    const path = `${error.instancePath}${typeof member === 'string' ? pointerOf(member) : ''}`;
    return { field: `${where} ${path || '/'}`.trimEnd(), message: error.message ?? error.keyword };
  });
}

interface Parameter {
  name: string;
  in: string;
  required: boolean;
  style: string | undefined;
  schema: Located;
}

function parametersOf(document: OpenApiDocument, operation: Operation): Parameter[] {
  const pathItemPointer = operation.pointer.replace(/\/[^/]+$/, '');
  const declared = [
    { list: document.at(`${pathItemPointer}/parameters`), pointer: `${pathItemPointer}/parameters` },
    { list: operation.definition['parameters'] ?? null, pointer: `${operation.pointer}/parameters` },
  ];
  const parameters: Parameter[] = [];
  for (const { list, pointer } of declared) {
    if (!Array.isArray(list)) continue;
    list.forEach((_, index) => {
      const { node, pointer: at } = document.deref({ node: list[index] ?? null, pointer: `${pointer}/${index}` });
      if (!isObject(node) || typeof node['name'] !== 'string' || typeof node['in'] !== 'string') return;
      parameters.push({
        name: node['name'],
        in: node['in'],
        required: node['required'] === true,
        style: typeof node['style'] === 'string' ? node['style'] : undefined,
        schema: { node: node['schema'] ?? null, pointer: `${at}/schema` },
      });
    });
  }
  return parameters;
}

/** Headers HTTP itself governs: OpenAPI ignores parameters of these names. */
const GOVERNED_HEADERS = new Set(['accept', 'content-type', 'authorization']);

function checkParameters(document: OpenApiDocument, operation: Operation, request: Exchange['request']) {
  const found: { field: string; message: string }[] = [];
  const seenQuery = new Set<string>();
  const check = (field: string, pointer: string, value: unknown) => {
    found.push(...schemaViolations(document.validate(pointer, value, true), field));
  };
  for (const parameter of parametersOf(document, operation)) {
    if (parameter.in === 'path') {
      check(`path ${parameter.name}`, parameter.schema.pointer, operation.pathParameters[parameter.name]);
    } else if (parameter.in === 'header' && !GOVERNED_HEADERS.has(parameter.name.toLowerCase())) {
      const value = request.headers[parameter.name.toLowerCase()];
      if (value === undefined && parameter.required)
        found.push({ field: `header ${parameter.name}`, message: 'is required' });
      else if (value !== undefined) check(`header ${parameter.name}`, parameter.schema.pointer, value);
    } else if (parameter.in === 'query' && parameter.style === 'deepObject') {
      // `filter[reference-id]=...` is the object `filter: {"reference-id": ...}`.
      const prefix = `${parameter.name}[`;
      const members = [...request.query.keys()].filter((key) => key.startsWith(prefix) && key.endsWith(']'));
      members.forEach((key) => seenQuery.add(key));
      if (members.length === 0 && !parameter.required) continue;
      const value = Object.fromEntries(members.map((key) => [key.slice(prefix.length, -1), request.query.get(key)]));
      check(`query ${parameter.name}`, parameter.schema.pointer, value);
    } else if (parameter.in === 'query') {
      seenQuery.add(parameter.name);
      const values = request.query.getAll(parameter.name);
      const schema = document.deref(parameter.schema).node;
      const value = isObject(schema) && schema['type'] === 'array' ? values : values[0];
      if (values.length === 0 && parameter.required)
        found.push({ field: `query ${parameter.name}`, message: 'is required' });
      else if (values.length > 0) check(`query ${parameter.name}`, parameter.schema.pointer, value);
    }
  }
  for (const key of request.query.keys()) {
    if (!seenQuery.has(key)) found.push({ field: `query ${key}`, message: 'is not a parameter of the operation' });
  }
  return found;
}

const mediaType = (headers: Record<string, string | string[] | undefined>) =>
  String(headers['content-type'] ?? '')
    .split(';')[0]
    ?.trim()
    .toLowerCase() ?? '';

function checkRequestBody(document: OpenApiDocument, operation: Operation, request: Exchange['request']) {
  const declared = document.deref({
    node: operation.definition['requestBody'] ?? null,
    pointer: `${operation.pointer}/requestBody`,
  });
  if (!isObject(declared.node)) {
    return request.rawBody === '' ? [] : [{ field: 'body', message: 'the operation takes no body, yet one was sent' }];
  }
  if (request.rawBody === '') {
    return declared.node['required'] === true ? [{ field: 'body', message: 'is required' }] : [];
  }
  const type = mediaType(request.headers);
  const content = declared.node['content'];
  if (!isObject(content) || !isObject(content[type])) {
    return [{ field: 'header Content-Type', message: `${type || 'none'} is not a media type the operation takes` }];
  }
  if (type === 'application/json' && request.body === undefined) return [{ field: 'body', message: 'is not JSON' }];
  return schemaViolations(
    document.validate(`${declared.pointer}/content/${'application~1json'}/schema`, request.body),
    'body',
  );
}

/** The documented answer for a status: exact, then its class (`4XX`), then `default`. */
function responseFor(document: OpenApiDocument, operation: Operation, status: number): Located | undefined {
  const responses = operation.definition['responses'];
  if (!isObject(responses)) return undefined;
  const key = [String(status), `${String(status)[0]}XX`, 'default'].find(
    (candidate) => responses[candidate] !== undefined,
  );
  return key === undefined
    ? undefined
    : document.deref({ node: responses[key] ?? null, pointer: `${operation.pointer}/responses/${key}` });
}

function checkReply(document: OpenApiDocument, operation: Operation, reply: NonNullable<Exchange['reply']>) {
  const headers = Object.fromEntries(Object.entries(reply.headers).map(([name, value]) => [name.toLowerCase(), value]));
  // A redirect is the server's routing, not an answer the operation describes (Kratos's x/redir).
  if (reply.status >= 300 && reply.status < 400 && headers['location'] !== undefined) return [];
  const response = responseFor(document, operation, reply.status);
  if (response === undefined || !isObject(response.node)) {
    // Any server may fail in ways its document does not list; every other answer must be listed.
    return reply.status >= 500
      ? []
      : [{ field: 'status', message: `${reply.status} is not an answer the operation documents` }];
  }
  const found: { field: string; message: string }[] = [];
  const documentedHeaders = response.node['headers'];
  if (isObject(documentedHeaders)) {
    for (const name of Object.keys(documentedHeaders)) {
      const header = document.deref({
        node: documentedHeaders[name] ?? null,
        pointer: `${response.pointer}/headers/${name}`,
      });
      if (!isObject(header.node)) continue;
      const value = headers[name.toLowerCase()];
      if (value === undefined && header.node['required'] === true)
        found.push({ field: `header ${name}`, message: 'is required' });
      else if (value !== undefined)
        found.push(...schemaViolations(document.validate(`${header.pointer}/schema`, value, true), `header ${name}`));
    }
  }
  const content = response.node['content'];
  if (!isObject(content)) return found;
  const type = mediaType(headers);
  if (!isObject(content[type])) {
    const documented = Object.keys(content).join(', ');
    return [
      ...found,
      { field: 'header Content-Type', message: `${type || 'no body'} where the document says ${documented}` },
    ];
  }
  if (type !== 'application/json') return found;
  const pointer = `${response.pointer}/content/application~1json/schema`;
  return [...found, ...schemaViolations(document.validate(pointer, reply.body), 'body')];
}

/** The exchange as it went over the wire: bodies read back from the bytes sent. */
export function snapshot(exchange: Exchange): Exchange {
  const parse = (raw: string) => {
    try {
      return raw === '' ? undefined : (JSON.parse(raw) as unknown);
    } catch {
      return undefined;
    }
  };
  const { request, reply } = exchange;
  return {
    api: exchange.api,
    request: {
      ...request,
      query: new URLSearchParams(request.query),
      headers: { ...request.headers },
      body: parse(request.rawBody),
    },
    reply: reply && { ...reply, headers: { ...reply.headers }, body: parse(reply.rawBody) },
  };
}

/**
 * Holds one exchange to its published document: the service's request (its parameters, headers
 * and body) and the stand-in's answer (status, documented headers and body), or, for a Persona
 * webhook, the stand-in's delivery against the document's `webhooks`.
 */
export function checkExchange(exchange: Exchange): Violation[] {
  const document = exchange.api === 'kratos' ? KRATOS_DOCUMENT : PERSONA_DOCUMENT;
  const { request, reply } = exchange;

  if (exchange.api === 'persona-webhook') {
    const name = (request.body as { data?: { attributes?: { name?: unknown } } } | undefined)?.data?.attributes?.name;
    const webhook = typeof name === 'string' ? document.findWebhook(name) : undefined;
    if (webhook === undefined) {
      return [
        {
          api: exchange.api,
          operation: String(name),
          side: 'request',
          field: 'body /data/attributes/name',
          message: 'no webhook of that event in the document',
        },
      ];
    }
    const found = [...checkParameters(document, webhook, request), ...checkRequestBody(document, webhook, request)];
    return found.map((violation) => ({ api: exchange.api, operation: webhook.id, side: 'request', ...violation }));
  }

  return checkOperation(document, exchange.api, request, reply);
}

/** Holds a request and its answer to the operation of `document` that serves the request's path. */
export function checkOperation(
  document: OpenApiDocument,
  api: string,
  request: Exchange['request'],
  reply: Exchange['reply'],
): Violation[] {
  const base = document.basePath;
  // Kratos's admin port serves every admin route with and without `/admin`
  // (httprouterx.AddAdminPrefixIfNotPresentNegroni, cmd/daemon/serve.go); its document lists some
  // of them without (`/health/ready`).
  const path = request.path.startsWith(base) ? request.path.slice(base.length) : request.path;
  const operation =
    document.findOperation(request.method, path) ??
    (api === 'kratos' && path.startsWith('/admin/')
      ? document.findOperation(request.method, path.slice('/admin'.length))
      : undefined);
  if (operation === undefined) {
    return [
      {
        api,
        operation: `${request.method} ${request.path}`,
        side: 'request',
        field: 'path',
        message: 'no operation of the document serves it',
      },
    ];
  }
  const name = `${operation.id} (${operation.method} ${operation.template})`;
  return [
    ...[...checkParameters(document, operation, request), ...checkRequestBody(document, operation, request)].map(
      (violation) => ({ api, operation: name, side: 'request' as const, ...violation }),
    ),
    ...(reply === undefined ? [] : checkReply(document, operation, reply)).map((violation) => ({
      api,
      operation: name,
      side: 'response' as const,
      ...violation,
    })),
  ];
}

/**
 * An inspector of one's own, for tests that send a stand-in malformed requests on purpose: they
 * assert what it found instead of failing on it.
 */
export function collectViolations() {
  const violations: Violation[] = [];
  return {
    violations,
    inspect: (exchange: Exchange) => {
      violations.push(...checkExchange(snapshot(exchange)));
    },
  };
}
