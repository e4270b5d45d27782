import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

/**
 * A vendored OpenAPI document (test/fixtures/openapi/), read once and compiled piece by piece as
 * exchanges need it. The two documents speak different schema dialects, and each is validated in
 * its own:
 * - OpenAPI 3.1 (Persona) schemas are JSON Schema 2020-12: `type: ["string", "null"]`,
 *   `unevaluatedProperties`, `$ref` with siblings. Ajv's 2020-12 validator takes them as they are.
 * - OpenAPI 3.0 (Kratos) schemas are a JSON Schema draft-04/05 dialect with `nullable: true` and
 *   `$ref` objects whose siblings are ignored. They are translated once, explicitly, before Ajv's
 *   draft-07 validator sees them (see `translateOpenApi30`): nothing else in them needs translating
 *   (no boolean `exclusiveMinimum`, and `discriminator` only hints at a `oneOf` that validates).
 * Formats Ajv does not know are the documents' own labels: `uuid4` is checked as a UUID, and
 * Persona's `format: "integer"` (on integer-typed fields) is accepted.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface Operation {
  /** `operationId`, or the webhook's event name. */
  id: string;
  method: string;
  /** The path template as the document writes it, e.g. `/inquiries/{inquiry-id}`. */
  template: string;
  /** JSON pointer of the operation object in the document. */
  pointer: string;
  definition: JsonObject;
  pathParameters: Record<string, string>;
}

export interface Located<T = Json> {
  node: T;
  pointer: string;
}

const isObject = (value: unknown): value is JsonObject =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const escape = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');
export const pointerOf = (...segments: (string | number)[]) =>
  segments.map((segment) => `/${escape(String(segment))}`).join('');

/**
 * OpenAPI 3.0's `nullable: true` as JSON Schema: `null` joins the `type` (and the `enum`). Without a
 * `type` every value is already allowed (OpenAPI 3.0.3: nullable has no effect without type). A
 * Reference Object's siblings are ignored by OpenAPI 3.0, so they are dropped.
 */
export function translateOpenApi30(node: Json): Json {
  if (Array.isArray(node)) return node.map(translateOpenApi30);
  if (!isObject(node)) return node;
  if (typeof node['$ref'] === 'string') return { $ref: node['$ref'] };
  const translated: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (key !== 'nullable') translated[key] = translateOpenApi30(value);
  }
  if (node['nullable'] === true && typeof node['type'] === 'string') {
    translated['type'] = [node['type'], 'null'];
    if (Array.isArray(node['enum']) && !node['enum'].includes(null)) translated['enum'] = [...node['enum'], null];
  }
  return translated;
}

/** A path template as a pattern with one capture per parameter. */
function templatePattern(template: string): { pattern: RegExp; names: string[]; literals: number } {
  const names: string[] = [];
  const source = template
    .split('/')
    .map((segment) => {
      const name = /^\{(.+)\}$/.exec(segment)?.[1];
      if (name === undefined) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(name);
      return '([^/]+)';
    })
    .join('/');
  return { pattern: new RegExp(`^${source}$`), names, literals: template.split('/').length - names.length };
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

export class OpenApiDocument {
  private loaded:
    | {
        document: JsonObject;
        ajv: Ajv;
        coercing: Ajv;
        routes: { template: string; pattern: RegExp; names: string[]; literals: number }[];
      }
    | undefined;
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(
    /** The key its schemas are registered under, and the name violations carry. */
    readonly name: string,
    /** The document's file, or the document itself (one the service generates). */
    private readonly source: URL | object,
    private readonly dialect: '3.0' | '3.1',
  ) {}

  private load() {
    if (this.loaded !== undefined) return this.loaded;
    const raw = (
      this.source instanceof URL ? JSON.parse(readFileSync(this.source, 'utf8')) : structuredClone(this.source)
    ) as JsonObject;
    const document = (this.dialect === '3.0' ? translateOpenApi30(raw) : raw) as JsonObject;
    const make = (coerceTypes: boolean) => {
      const options = {
        strict: false,
        allErrors: true,
        validateSchema: false,
        inlineRefs: false,
        coerceTypes,
        logger: false as const,
      };
      const ajv = this.dialect === '3.1' ? new Ajv2020(options) : new Ajv(options);
      addFormats.default(ajv);
      ajv.addFormat('uuid4', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
      ajv.addFormat('integer', true);
      ajv.addSchema(document, this.name);
      return ajv;
    };
    const paths = isObject(document['paths']) ? document['paths'] : {};
    const routes = Object.keys(paths)
      .map((template) => ({ template, ...templatePattern(template) }))
      // A literal segment wins over a parameter: `/inquiries/search` before `/inquiries/{inquiry-id}`.
      .sort((a, b) => b.literals - a.literals);
    this.loaded = { document, ajv: make(false), coercing: make(true), routes };
    return this.loaded;
  }

  /** The document's first server's path (`/api/v1` for Persona), which request paths start with. */
  get basePath(): string {
    const servers = this.load().document['servers'];
    const first = Array.isArray(servers) && isObject(servers[0]) ? servers[0]['url'] : undefined;
    return typeof first === 'string' ? new URL(first).pathname.replace(/\/$/, '') : '';
  }

  findOperation(method: string, path: string): Operation | undefined {
    const { document, routes } = this.load();
    const lower = method.toLowerCase();
    for (const route of routes) {
      const match = route.pattern.exec(path);
      const definition = match && (document['paths'] as JsonObject)[route.template];
      const operation = isObject(definition) ? definition[lower] : undefined;
      if (match === null || !isObject(operation) || !METHODS.includes(lower)) continue;
      const pathParameters = Object.fromEntries(
        route.names.map((name, index) => [name, decodeURIComponent(match[index + 1] ?? '')]),
      );
      return {
        id: typeof operation['operationId'] === 'string' ? operation['operationId'] : `${method} ${route.template}`,
        method,
        template: route.template,
        pointer: pointerOf('paths', route.template, lower),
        definition: operation,
        pathParameters,
      };
    }
    return undefined;
  }

  /** The webhook an event name is delivered by (`webhooks` of an OpenAPI 3.1 document). */
  findWebhook(eventName: string): Operation | undefined {
    const webhooks = this.load().document['webhooks'];
    const item = isObject(webhooks) ? webhooks[eventName] : undefined;
    const operation = isObject(item) ? item['post'] : undefined;
    if (!isObject(operation)) return undefined;
    return {
      id: eventName,
      method: 'POST',
      template: eventName,
      pointer: pointerOf('webhooks', eventName, 'post'),
      definition: operation,
      pathParameters: {},
    };
  }

  /** Follows Reference Objects (`$ref` to `#/components/...`) to the object they name. */
  deref(located: Located): Located {
    let current = located;
    for (let hops = 0; hops < 10 && isObject(current.node) && typeof current.node['$ref'] === 'string'; hops += 1) {
      const pointer = current.node['$ref'].replace(/^#/, '');
      current = { node: this.at(pointer), pointer };
    }
    return current;
  }

  /** The value at a JSON pointer of the document. */
  at(pointer: string): Json {
    let node: Json = this.load().document;
    for (const segment of pointer.split('/').slice(1)) {
      const key = segment.replace(/~1/g, '/').replace(/~0/g, '~');
      node = isObject(node) ? (node[key] ?? null) : Array.isArray(node) ? (node[Number(key)] ?? null) : null;
    }
    return node;
  }

  /**
   * Validates `data` against the schema at `pointer`; `coerce` reads strings as the numbers and
   * booleans the schema asks for (parameters and headers arrive as text).
   */
  validate(pointer: string, data: unknown, coerce = false): ErrorObject[] {
    const key = `${coerce ? 'coerce' : 'strict'}#${pointer}`;
    let validator = this.validators.get(key);
    if (validator === undefined) {
      const { ajv, coercing } = this.load();
      validator = (coerce ? coercing : ajv).compile({ $ref: `${this.name}#${pointer}` });
      this.validators.set(key, validator);
    }
    return validator(coerce ? structuredClone(data) : data) ? [] : [...(validator.errors ?? [])];
  }
}
