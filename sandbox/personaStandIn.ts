import { createHash, createHmac, randomBytes } from 'node:crypto';
import {
  startStandInServer,
  type RecordedRequest,
  type Reply,
  type Route,
  type StandInServer,
} from './standInServer.js';

/**
 * A Persona API on loopback, faithful to reference/persona-api.md: bearer key, JSON:API bodies with
 * kebab keys, no unknown `data.attributes` or `meta` keys on create, `Idempotency-Key` replay (and
 * refusal of a key reused with other parameters), `Request-Id` and rate-limit headers, and webhook
 * events signed the way Persona signs them.
 */

export interface StandInInquiry {
  id: string;
  status: string;
  referenceId: string | null;
  templateId: string;
  accountId: string;
  createdAt: string;
  updatedAt: string;
  fields: Record<string, unknown>;
}

export interface PersonaEventBody {
  data: { type: 'event'; id: string; attributes: { name: string; 'created-at': string; payload: unknown } };
}

export interface PersonaStandIn extends StandInServer {
  /** The API base, what `PERSONA_API_BASE` points at. */
  apiBase: string;
  inquiry(id: string): StandInInquiry | undefined;
  inquiries(): StandInInquiry[];
  /** An inquiry created outside this service (dashboard, another app). */
  addInquiry(input: {
    referenceId: string | null;
    templateId?: string;
    status?: string;
    createdAt?: string;
  }): StandInInquiry;
  /** Moves an inquiry to a status, as the user, Persona or a reviewer would. */
  setStatus(id: string, status: string): StandInInquiry;
  /** The webhook body Persona sends for `name` about the inquiry as it is now. */
  eventFor(id: string, name: string, options?: { eventId?: string; createdAt?: string }): PersonaEventBody;
}

export interface PersonaStandInOptions {
  apiKey: string;
  templateIds: string[];
  port?: number;
  now?: () => number;
}

const ALLOWED_CREATE_ATTRIBUTES = new Set(['inquiry-template-id', 'template-id', 'fields', 'redirect-uri', 'note']);
const ALLOWED_CREATE_META = new Set([
  'auto-create-account-reference-id',
  'auto-create-one-time-link',
  'one-time-link-expiration-seconds',
  'expiration-after-create-interval-seconds',
]);

const randomId = (prefix: string) => `${prefix}_${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`;

const personaError = (status: number, title: string, details?: string): Reply => ({
  status,
  body: { errors: [{ title, ...(details !== undefined && { details }) }] },
});

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Computes `Persona-Signature` for a body: one `t=,v1=` set per secret, as during Persona's rotation. */
export function signPersonaWebhook(rawBody: string, secrets: string[], timestamp: number): string {
  return secrets
    .map(
      (secret) => `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex')}`,
    )
    .join(' ');
}

export async function startPersonaStandIn(options: PersonaStandInOptions): Promise<PersonaStandIn> {
  const now = options.now ?? Date.now;
  const iso = () => new Date(now()).toISOString();
  const inquiries = new Map<string, StandInInquiry>();
  const idempotency = new Map<string, { fingerprint: string; reply: Reply }>();
  const accounts = new Map<string, string>();

  const accountFor = (referenceId: string | null) => {
    if (referenceId === null) return randomId('act');
    const existing = accounts.get(referenceId) ?? randomId('act');
    accounts.set(referenceId, existing);
    return existing;
  };

  const resource = (inquiry: StandInInquiry) => ({
    type: 'inquiry',
    id: inquiry.id,
    attributes: {
      status: inquiry.status,
      'reference-id': inquiry.referenceId,
      note: null,
      tags: [],
      creator: 'API',
      'created-at': inquiry.createdAt,
      'updated-at': inquiry.updatedAt,
      'redacted-at': null,
      fields: Object.fromEntries(
        Object.entries(inquiry.fields).map(([key, value]) => [
          key,
          { type: typeof value === 'string' ? 'string' : 'unknown', value },
        ]),
      ),
    },
    relationships: {
      account: { data: { type: 'account', id: inquiry.accountId } },
      template: { data: {} },
      'inquiry-template': { data: { type: 'inquiry-template', id: inquiry.templateId } },
      verifications: { data: [] },
    },
  });

  const store = (input: Omit<StandInInquiry, 'id' | 'accountId' | 'updatedAt'>) => {
    const inquiry: StandInInquiry = {
      ...input,
      id: randomId('inq'),
      accountId: accountFor(input.referenceId),
      updatedAt: input.createdAt,
    };
    inquiries.set(inquiry.id, inquiry);
    return inquiry;
  };

  const createInquiry = (request: RecordedRequest): Reply => {
    if (!String(request.headers['content-type'] ?? '').startsWith('application/json')) {
      return personaError(415, 'Unsupported Media Type');
    }
    const body = request.body;
    if (!isObject(body) || !isObject(body['data']) || !isObject(body['data']['attributes'])) {
      return personaError(400, 'Bad Request', 'data.attributes is required');
    }
    const unknownTop = Object.keys(body).filter((key) => key !== 'data' && key !== 'meta');
    const attributes = body['data']['attributes'];
    const meta = body['meta'] ?? {};
    if (!isObject(meta)) return personaError(400, 'Bad Request', 'meta must be an object');
    const unknownAttributes = Object.keys(attributes).filter((key) => !ALLOWED_CREATE_ATTRIBUTES.has(key));
    const unknownMeta = Object.keys(meta).filter((key) => !ALLOWED_CREATE_META.has(key));
    const unknown = [
      ...unknownTop,
      ...unknownAttributes.map((key) => `data.attributes.${key}`),
      ...unknownMeta.map((key) => `meta.${key}`),
    ];
    if (unknown.length > 0) return personaError(400, 'Bad Request', `Unknown parameters: ${unknown.join(', ')}`);

    const templateId = attributes['inquiry-template-id'] ?? attributes['template-id'];
    if (typeof templateId !== 'string' || !options.templateIds.includes(templateId)) {
      return personaError(404, 'Not Found', 'Template not found');
    }
    const fields = attributes['fields'] ?? {};
    if (!isObject(fields) || Object.values(fields).some((value) => isObject(value) || Array.isArray(value))) {
      return personaError(422, 'Unprocessable Entity', 'fields must map field names to values');
    }
    const referenceId = meta['auto-create-account-reference-id'];
    if (referenceId !== undefined && typeof referenceId !== 'string') {
      return personaError(422, 'Unprocessable Entity', 'auto-create-account-reference-id must be a string');
    }

    const inquiry = store({
      status: 'created',
      referenceId: referenceId ?? null,
      templateId,
      createdAt: iso(),
      fields,
    });
    const replyMeta: Record<string, unknown> = {};
    if (meta['auto-create-one-time-link'] === true)
      replyMeta['one-time-link'] = `${server.url}/verify?code=${randomId('otl')}`;
    return { status: 201, body: { data: resource(inquiry), meta: replyMeta } };
  };

  /** 401 and 429 are decided before the idempotency layer (reference/persona-api.md). */
  const withIdempotency =
    (handle: (request: RecordedRequest, params: string[]) => Reply) =>
    (request: RecordedRequest, params: string[]): Reply => {
      const key = request.headers['idempotency-key'];
      if (typeof key !== 'string') return handle(request, params);
      const fingerprint = createHash('sha256').update(`${request.path}\n${request.rawBody}`).digest('hex');
      const previous = idempotency.get(key);
      if (previous !== undefined) {
        return previous.fingerprint === fingerprint
          ? previous.reply
          : personaError(409, 'Conflict', 'Idempotency-Key was already used with different parameters');
      }
      const reply = handle(request, params);
      if (reply.status < 500) idempotency.set(key, { fingerprint, reply });
      return reply;
    };

  const existing =
    (handle: (inquiry: StandInInquiry, request: RecordedRequest) => Reply) =>
    (request: RecordedRequest, [id = '']: string[]): Reply => {
      const inquiry = inquiries.get(id);
      return inquiry === undefined ? personaError(404, 'Not Found', 'Record not found') : handle(inquiry, request);
    };

  let requestCount = 0;
  const api =
    (handle: Route['handle']): Route['handle'] =>
    async (request, params) => {
      requestCount += 1;
      const headers = {
        'Request-Id': randomId('req'),
        'RateLimit-Limit': '300',
        'RateLimit-Remaining': String(Math.max(0, 300 - (requestCount % 300))),
        'RateLimit-Reset': '60',
      };
      const reply =
        request.headers.authorization === `Bearer ${options.apiKey}`
          ? await handle(request, params)
          : personaError(401, 'Unauthorized', 'Must be authenticated to access this endpoint');
      return { ...reply, headers: { ...headers, ...reply.headers } };
    };

  const resume = (inquiry: StandInInquiry): Reply => {
    if (inquiry.status !== 'pending' && inquiry.status !== 'expired') {
      return personaError(409, 'Conflict', 'Only pending or expired inquiries can be resumed');
    }
    inquiry.status = 'pending';
    inquiry.updatedAt = iso();
    return { status: 200, body: { data: resource(inquiry), meta: { 'session-token': `pst_${randomId('st')}` } } };
  };

  const oneTimeLink = (inquiry: StandInInquiry, request: RecordedRequest): Reply => {
    if (inquiry.status === 'expired') return personaError(409, 'Conflict', 'Resume an expired inquiry first');
    const meta = isObject(request.body) ? request.body['meta'] : undefined;
    const expiresIn = isObject(meta) ? meta['expires-in-seconds'] : undefined;
    if (expiresIn !== undefined && (!Number.isInteger(expiresIn) || (expiresIn as number) <= 0)) {
      return personaError(422, 'Unprocessable Entity', 'expires-in-seconds must be a positive integer');
    }
    const code = randomId('otl');
    return {
      status: 200,
      body: {
        data: resource(inquiry),
        meta: {
          'one-time-link': `${server.url}/verify?code=${code}`,
          'one-time-link-short': `${server.url}/s/${code}`,
        },
      },
    };
  };

  const server = await startStandInServer({
    port: options.port,
    routes: [
      {
        method: 'POST',
        pattern: /^\/api\/v1\/inquiries\/([^/]+)\/resume$/,
        handle: api(withIdempotency(existing(resume))),
      },
      {
        method: 'POST',
        pattern: /^\/api\/v1\/inquiries\/([^/]+)\/generate-one-time-link$/,
        handle: api(withIdempotency(existing(oneTimeLink))),
      },
      { method: 'POST', pattern: /^\/api\/v1\/inquiries$/, handle: api(withIdempotency(createInquiry)) },
      {
        method: 'GET',
        pattern: /^\/api\/v1\/inquiries\/([^/]+)$/,
        handle: api(existing((inquiry) => ({ status: 200, body: { data: resource(inquiry), included: [] } }))),
      },
    ],
  });

  const setStatus = (id: string, status: string) => {
    const inquiry = inquiries.get(id);
    if (inquiry === undefined) throw new Error(`no inquiry ${id}`);
    inquiry.status = status;
    inquiry.updatedAt = iso();
    return { ...inquiry };
  };

  return {
    ...server,
    apiBase: `${server.url}/api/v1`,
    inquiry: (id) => {
      const inquiry = inquiries.get(id);
      return inquiry === undefined ? undefined : { ...inquiry };
    },
    inquiries: () => [...inquiries.values()].map((inquiry) => ({ ...inquiry })),
    addInquiry: (input) =>
      store({
        status: input.status ?? 'created',
        referenceId: input.referenceId,
        templateId: input.templateId ?? (options.templateIds[0] as string),
        createdAt: input.createdAt ?? iso(),
        fields: {},
      }),
    setStatus,
    eventFor(id, name, eventOptions = {}) {
      const inquiry = inquiries.get(id);
      if (inquiry === undefined) throw new Error(`no inquiry ${id}`);
      return {
        data: {
          type: 'event',
          id: eventOptions.eventId ?? randomId('evt'),
          attributes: {
            name,
            'created-at': eventOptions.createdAt ?? iso(),
            payload: { data: resource(inquiry), included: [] },
          },
        },
      };
    },
  };
}
