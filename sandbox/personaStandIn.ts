import { createHash } from 'node:crypto';
import { hostedFlowRoutes } from './personaHostedFlow.js';
import { personaError, randomId, type StandInInquiry } from './personaResources.js';
import { WebhookSender, type Delivery, type WebhookTarget } from './personaWebhooks.js';
import {
  isObject,
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
 * events signed and redelivered the way Persona does. The sandbox adds a hosted-flow page and
 * shortcuts to decide inquiries (see personaHostedFlow.ts).
 */

export type { StandInInquiry } from './personaResources.js';

export interface PersonaEventBody {
  data: { type: 'event'; id: string; attributes: { name: string; 'created-at': string; payload: unknown } };
}

/** Persona's sandbox simulate-actions (reference/persona-api.md), with the status and event of each. */
export const SIMULATE_ACTIONS = {
  start_inquiry: { status: 'pending', event: 'inquiry.started' },
  complete_inquiry: { status: 'completed', event: 'inquiry.completed' },
  fail_inquiry: { status: 'failed', event: 'inquiry.failed' },
  expire_inquiry: { status: 'expired', event: 'inquiry.expired' },
  mark_for_review_inquiry: { status: 'needs_review', event: 'inquiry.marked-for-review' },
  approve_inquiry: { status: 'approved', event: 'inquiry.approved' },
  decline_inquiry: { status: 'declined', event: 'inquiry.declined' },
} as const;
export type SimulateAction = keyof typeof SIMULATE_ACTIONS;

/** Persona's redelivery schedule: 3 s, 64 s, ~12 min, ~68 min, ~4.3 h, ~13 h, ~33 h. */
const PERSONA_REDELIVERY_DELAYS_MS = [3, 64, 720, 4_080, 15_480, 46_800, 118_800].map((s) => s * 1_000);

export interface PersonaStandIn extends StandInServer {
  /** What `PERSONA_API_BASE` points at. */
  apiBase: string;
  /** What `PERSONA_HOSTED_FLOW_URL` points at. */
  hostedFlowUrl: string;
  inquiry(id: string): StandInInquiry | undefined;
  inquiries(): StandInInquiry[];
  /** An inquiry created outside this service (dashboard, another app). */
  addInquiry(input: {
    referenceId: string | null;
    templateId?: string;
    status?: string;
    createdAt?: string;
    /** Only the API and the dashboard set a note; an inquiry opened from a template link has none. */
    note?: string | null;
  }): StandInInquiry;
  /** Moves an inquiry to a status, as the user, Persona or a reviewer would, without an event. */
  setStatus(id: string, status: string): StandInInquiry;
  /** The webhook body Persona sends for `name` about the inquiry as it is now. */
  eventFor(id: string, name: string, options?: { eventId?: string; createdAt?: string }): PersonaEventBody;
  /** Moves the inquiry through `actions`, delivering each action's event to the webhook. */
  simulate(id: string, actions: SimulateAction[]): StandInInquiry;
  setWebhook(target: WebhookTarget | undefined): void;
  deliveries: Delivery[];
  /** Resolves once no webhook delivery is under way. */
  settled(): Promise<void>;
}

export interface PersonaStandInOptions {
  apiKey: string;
  templateIds: string[];
  port?: number;
  host?: string;
  now?: () => number;
  webhook?: WebhookTarget;
  redeliveryDelaysMs?: number[];
  onDelivery?: (delivery: Delivery) => void;
}

const ALLOWED_CREATE_ATTRIBUTES = new Set(['inquiry-template-id', 'template-id', 'fields', 'redirect-uri', 'note']);
const ALLOWED_CREATE_META = new Set([
  'auto-create-account-reference-id',
  'auto-create-one-time-link',
  'one-time-link-expiration-seconds',
  'expiration-after-create-interval-seconds',
]);

export async function startPersonaStandIn(options: PersonaStandInOptions): Promise<PersonaStandIn> {
  const clock = options.now ?? Date.now;
  // Persona's times only move forward; successive changes never share a millisecond here.
  let latest = 0;
  const iso = () => new Date((latest = Math.max(clock(), latest + 1))).toISOString();
  const inquiries = new Map<string, StandInInquiry>();
  const idempotency = new Map<string, { fingerprint: string; reply: Reply }>();
  const accounts = new Map<string, string>();
  const oneTimeCodes = new Map<string, string>();
  const webhooks = new WebhookSender(
    options.webhook,
    clock,
    options.redeliveryDelaysMs ?? PERSONA_REDELIVERY_DELAYS_MS,
    options.onDelivery,
  );

  const resource = (inquiry: StandInInquiry) => ({
    type: 'inquiry',
    id: inquiry.id,
    attributes: {
      status: inquiry.status,
      'reference-id': inquiry.referenceId,
      note: inquiry.note,
      tags: [],
      creator: 'API',
      'created-at': inquiry.createdAt,
      'updated-at': inquiry.updatedAt,
      'redacted-at': null,
      fields: Object.fromEntries(
        Object.entries(inquiry.fields).map(([key, value]) => [key, { type: 'string', value }]),
      ),
    },
    relationships: {
      account: { data: { type: 'account', id: inquiry.accountId } },
      template: { data: {} },
      'inquiry-template': { data: { type: 'inquiry-template', id: inquiry.templateId } },
      verifications: { data: [] },
    },
  });

  const eventFor = (
    inquiry: StandInInquiry,
    name: string,
    eventOptions: { eventId?: string; createdAt?: string } = {},
  ) => ({
    data: {
      type: 'event' as const,
      id: eventOptions.eventId ?? randomId('evt'),
      attributes: {
        name,
        'created-at': eventOptions.createdAt ?? iso(),
        payload: { data: resource(inquiry), included: [] },
      },
    },
  });

  const store = (
    input: Pick<StandInInquiry, 'status' | 'referenceId' | 'templateId' | 'createdAt' | 'fields' | 'note'>,
  ) => {
    const account = input.referenceId === null ? randomId('act') : (accounts.get(input.referenceId) ?? randomId('act'));
    if (input.referenceId !== null) accounts.set(input.referenceId, account);
    const inquiry: StandInInquiry = { ...input, id: randomId('inq'), accountId: account, updatedAt: input.createdAt };
    inquiries.set(inquiry.id, inquiry);
    return inquiry;
  };

  const move = (inquiry: StandInInquiry, status: string) => {
    inquiry.status = status;
    inquiry.updatedAt = iso();
  };

  const simulate = (inquiry: StandInInquiry, actions: SimulateAction[]) => {
    for (const action of actions) {
      move(inquiry, SIMULATE_ACTIONS[action].status);
      webhooks.send(eventFor(inquiry, SIMULATE_ACTIONS[action].event), inquiry.id);
    }
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
    const attributes = body['data']['attributes'];
    const meta = body['meta'] ?? {};
    if (!isObject(meta)) return personaError(400, 'Bad Request', 'meta must be an object');
    const unknown = [
      ...Object.keys(body).filter((key) => key !== 'data' && key !== 'meta'),
      ...Object.keys(attributes)
        .filter((key) => !ALLOWED_CREATE_ATTRIBUTES.has(key))
        .map((key) => `data.attributes.${key}`),
      ...Object.keys(meta)
        .filter((key) => !ALLOWED_CREATE_META.has(key))
        .map((key) => `meta.${key}`),
    ];
    if (unknown.length > 0) return personaError(400, 'Bad Request', `Unknown parameters: ${unknown.join(', ')}`);

    const templateId = attributes['inquiry-template-id'] ?? attributes['template-id'];
    if (typeof templateId !== 'string' || !options.templateIds.includes(templateId)) {
      return personaError(404, 'Not Found', 'Template not found');
    }
    const fields = attributes['fields'] ?? {};
    if (!isObject(fields) || Object.values(fields).some((value) => value !== null && typeof value === 'object')) {
      return personaError(422, 'Unprocessable Entity', 'fields must map field names to values');
    }
    const referenceId = meta['auto-create-account-reference-id'];
    if (referenceId !== undefined && typeof referenceId !== 'string') {
      return personaError(422, 'Unprocessable Entity', 'auto-create-account-reference-id must be a string');
    }

    const note = attributes['note'];
    if (note !== undefined && note !== null && typeof note !== 'string') {
      return personaError(422, 'Unprocessable Entity', 'note must be a string');
    }
    const inquiry = store({
      status: 'created',
      referenceId: referenceId ?? null,
      templateId,
      createdAt: iso(),
      fields,
      note: note ?? null,
    });
    webhooks.send(eventFor(inquiry, 'inquiry.created'), inquiry.id);
    const replyMeta: Record<string, unknown> = {};
    if (meta['auto-create-one-time-link'] === true) replyMeta['one-time-link'] = oneTimeLinkFor(inquiry);
    return { status: 201, body: { data: resource(inquiry), meta: replyMeta } };
  };

  const oneTimeLinkFor = (inquiry: StandInInquiry) => {
    const code = randomId('otl');
    oneTimeCodes.set(code, inquiry.id);
    return `${server.url}/verify?code=${code}`;
  };

  const resume = (inquiry: StandInInquiry): Reply => {
    if (inquiry.status !== 'pending' && inquiry.status !== 'expired') {
      return personaError(409, 'Conflict', 'Only pending or expired inquiries can be resumed');
    }
    move(inquiry, 'pending');
    return { status: 200, body: { data: resource(inquiry), meta: { 'session-token': randomId('pst') } } };
  };

  const generateOneTimeLink = (inquiry: StandInInquiry, request: RecordedRequest): Reply => {
    if (inquiry.status === 'expired') return personaError(409, 'Conflict', 'Resume an expired inquiry first');
    const meta = isObject(request.body) ? request.body['meta'] : undefined;
    const expiresIn = isObject(meta) ? meta['expires-in-seconds'] : undefined;
    if (expiresIn !== undefined && (!Number.isInteger(expiresIn) || (expiresIn as number) <= 0)) {
      return personaError(422, 'Unprocessable Entity', 'expires-in-seconds must be a positive integer');
    }
    return { status: 200, body: { data: resource(inquiry), meta: { 'one-time-link': oneTimeLinkFor(inquiry) } } };
  };

  const performSimulateActions = (inquiry: StandInInquiry, request: RecordedRequest): Reply => {
    const meta = isObject(request.body) ? request.body['meta'] : undefined;
    const actions = isObject(meta) ? meta['simulate-actions'] : undefined;
    const types = Array.isArray(actions)
      ? actions.map((action) => (isObject(action) ? action['type'] : undefined))
      : [];
    if (
      types.length === 0 ||
      !types.every((type): type is SimulateAction => typeof type === 'string' && type in SIMULATE_ACTIONS)
    ) {
      return personaError(422, 'Unprocessable Entity', 'meta.simulate-actions must list known actions');
    }
    return { status: 200, body: { data: resource(simulate(inquiry, types)) } };
  };

  /**
   * `GET /inquiries` with Persona's filters: newest first, `page[after]` as cursor, `links.next`
   * for the next page. Unknown filters are refused rather than ignored, to catch misspellings.
   */
  const listInquiries = (request: RecordedRequest): Reply => {
    const filters = new Map<string, string>();
    for (const [key, value] of request.query) {
      const filter = /^filter\[([a-z-]+)\]$/.exec(key)?.[1];
      if (filter !== undefined) filters.set(filter, value);
      else if (key !== 'page[size]' && key !== 'page[after]')
        return personaError(400, 'Bad Request', `Unknown parameter ${key}`);
    }
    const known = new Set([
      'inquiry-template-id',
      'template-id',
      'reference-id',
      'status',
      'created-at-start',
      'created-at-end',
    ]);
    const unknown = [...filters.keys()].filter((filter) => !known.has(filter));
    if (unknown.length > 0) return personaError(400, 'Bad Request', `Unknown filter ${unknown.join(', ')}`);
    const size = Number(request.query.get('page[size]') ?? 10);
    if (!Number.isInteger(size) || size < 1 || size > 100)
      return personaError(400, 'Bad Request', 'page[size] must be 1 to 100');

    const template = filters.get('inquiry-template-id') ?? filters.get('template-id');
    const statuses = filters.get('status')?.split(',');
    const start = filters.has('created-at-start') ? Date.parse(filters.get('created-at-start') as string) : -Infinity;
    const end = filters.has('created-at-end') ? Date.parse(filters.get('created-at-end') as string) : Infinity;
    const matching = [...inquiries.values()]
      .filter(
        (inquiry) =>
          (template === undefined || inquiry.templateId === template) &&
          (!filters.has('reference-id') || inquiry.referenceId === filters.get('reference-id')) &&
          (statuses === undefined || statuses.includes(inquiry.status)) &&
          Date.parse(inquiry.createdAt) >= start &&
          Date.parse(inquiry.createdAt) <= end,
      )
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
    const after = request.query.get('page[after]');
    const from = after === null ? 0 : matching.findIndex((inquiry) => inquiry.id === after) + 1;
    const page = matching.slice(from, from + size);
    const last = page.at(-1);
    let next: string | null = null;
    if (last !== undefined && from + size < matching.length) {
      const query = new URLSearchParams(request.query);
      query.set('page[after]', last.id);
      next = `/api/v1/inquiries?${query}`;
    }
    return { status: 200, body: { data: page.map(resource), links: { prev: null, next } } };
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
        'RateLimit-Remaining': String(300 - (requestCount % 300)),
        'RateLimit-Reset': '60',
      };
      const reply =
        request.headers.authorization === `Bearer ${options.apiKey}`
          ? await handle(request, params)
          : personaError(401, 'Unauthorized', 'Must be authenticated to access this endpoint');
      return { ...reply, headers: { ...headers, ...reply.headers } };
    };

  const inquiryRoute = (method: string, action: string, handle: Route['handle']): Route => ({
    method,
    pattern: new RegExp(`^/api/v1/inquiries/([^/]+)${action}$`),
    handle: api(handle),
  });

  const server = await startStandInServer({
    port: options.port,
    host: options.host,
    routes: [
      { method: 'POST', pattern: /^\/api\/v1\/inquiries$/, handle: api(withIdempotency(createInquiry)) },
      { method: 'GET', pattern: /^\/api\/v1\/inquiries$/, handle: api(listInquiries) },
      inquiryRoute(
        'GET',
        '',
        existing((inquiry) => ({ status: 200, body: { data: resource(inquiry), included: [] } })),
      ),
      inquiryRoute('POST', '/resume', withIdempotency(existing(resume))),
      inquiryRoute('POST', '/generate-one-time-link', withIdempotency(existing(generateOneTimeLink))),
      inquiryRoute('POST', '/perform-simulate-actions', withIdempotency(existing(performSimulateActions))),
      ...hostedFlowRoutes({
        inquiry: (id) => inquiries.get(id),
        inquiryForCode: (code) => inquiries.get(oneTimeCodes.get(code) ?? ''),
        simulate,
      }),
    ],
  });

  const found = (id: string) => {
    const inquiry = inquiries.get(id);
    if (inquiry === undefined) throw new Error(`no inquiry ${id}`);
    return inquiry;
  };

  return {
    ...server,
    apiBase: `${server.url}/api/v1`,
    hostedFlowUrl: server.url,
    inquiry: (id) => (inquiries.has(id) ? { ...found(id) } : undefined),
    inquiries: () => [...inquiries.values()].map((inquiry) => ({ ...inquiry })),
    addInquiry: (input) =>
      store({
        status: input.status ?? 'created',
        referenceId: input.referenceId,
        templateId: input.templateId ?? (options.templateIds[0] as string),
        createdAt: input.createdAt ?? iso(),
        fields: {},
        note: input.note ?? null,
      }),
    setStatus(id, status) {
      move(found(id), status);
      return { ...found(id) };
    },
    eventFor: (id, name, eventOptions) => eventFor(found(id), name, eventOptions),
    simulate: (id, actions) => ({ ...simulate(found(id), actions) }),
    setWebhook: (target) => webhooks.setTarget(target),
    deliveries: webhooks.deliveries,
    settled: () => webhooks.settled(),
  };
}
