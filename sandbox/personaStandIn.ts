import { defaultInspector, type ExchangeInspector } from './exchangeInspection.js';
import { hostedFlowRoutes } from './personaHostedFlow.js';
import { IdempotencyLayer } from './personaIdempotency.js';
import { cursorPage } from './personaPages.js';
import { PersonaRateLimit, type RateLimitOptions } from './personaRateLimit.js';
import { redactAccount, redactInquiry } from './personaRedaction.js';
import { SIMULATE_ACTIONS, type SimulateAction } from './personaSimulation.js';
import {
  accountResource,
  inquiryResource,
  personaError,
  randomId,
  statusTime,
  type ReferenceIds,
  type StandInAccount,
  type StandInInquiry,
} from './personaResources.js';
import {
  DOCUMENT_CHECKED_STATUSES,
  governmentIdResource,
  personFromFields,
  type DocumentPerson,
} from './personaVerifications.js';
import { WebhookSender, type Delivery, type RedeliveryOptions, type WebhookTarget } from './personaWebhooks.js';
import {
  isObject,
  startStandInServer,
  type RecordedRequest,
  type Reply,
  type Route,
  type StandInServer,
} from './standInServer.js';

/**
 * A Persona API on loopback, faithful to reference/persona-api.md and Persona's OpenAPI document for
 * 2025-12-08 (the test suite holds every exchange to it): bearer key, JSON:API bodies with kebab
 * keys and every attribute the document requires, no unknown `data.attributes` or `meta` keys on
 * create, Persona's idempotency layer, `Request-Id`, `Persona-Environment-Id` and rate-limit
 * headers, accounts carrying the reference ids, and webhook events signed and redelivered the way
 * Persona does. The sandbox adds a hosted-flow page and shortcuts to decide inquiries (see
 * personaHostedFlow.ts).
 */

export type { ReferenceIds, StandInAccount, StandInInquiry } from './personaResources.js';
export type { DocumentPerson } from './personaVerifications.js';

export interface PersonaEventBody {
  data: { type: 'event'; id: string; attributes: { name: string; 'created-at': string; payload: unknown } };
}

export interface PersonaStandIn extends StandInServer {
  /** What `PERSONA_API_BASE` points at. */
  apiBase: string;
  /** What `PERSONA_HOSTED_FLOW_URL` points at. */
  hostedFlowUrl: string;
  /** The `Persona-Environment-Id` every authenticated answer carries. */
  environmentId: string;
  inquiry(id: string): StandInInquiry | undefined;
  inquiries(): StandInInquiry[];
  account(id: string): StandInAccount | undefined;
  accounts(): StandInAccount[];
  /** An inquiry created outside this service (dashboard, another app). */
  addInquiry(input: {
    referenceId: string | null;
    templateId?: string;
    status?: string;
    createdAt?: string;
    /** Only the API and the dashboard set a note; an inquiry opened from a template link has none. */
    note?: string | null;
    /** What the person typed (what redaction empties). */
    fields?: Record<string, unknown>;
    document?: DocumentPerson;
  }): StandInInquiry;
  /** What the user's document says (its government-id verification), from now on. */
  setDocument(id: string, person: DocumentPerson): void;
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
  /** Persona's redelivery schedule, scaled or cut short. */
  redelivery?: RedeliveryOptions;
  onDelivery?: (delivery: Delivery) => void;
  /** Whether inquiries carry their reference id or leave it to their account. Default `echoed`. */
  referenceIds?: ReferenceIds;
  /** Told about every API exchange and webhook delivery; the suite-wide default when absent. */
  inspect?: ExchangeInspector;
  /** What a user's document says when no test decided it; by default what they typed into the fields. */
  documentOf?: (inquiry: StandInInquiry) => DocumentPerson;
  /** Enforce a rate limit as Persona does (429 with RateLimit-Reset); by default the headers only. */
  rateLimit?: RateLimitOptions;
}

const ALLOWED_CREATE_ATTRIBUTES = new Set(['inquiry-template-id', 'template-id', 'fields', 'redirect-uri', 'note']);
const ALLOWED_CREATE_META = new Set([
  'auto-create-account-reference-id',
  'auto-create-one-time-link',
  'one-time-link-expiration-seconds',
  'expiration-after-create-interval-seconds',
]);
const INQUIRY_FILTERS = new Set([
  'inquiry-template-id',
  'template-id',
  'reference-id',
  'account-id',
  'status',
  'created-at-start',
  'created-at-end',
]);

/** The filters of a list request (`filter[name]=value`); unknown parameters are an error. */
function filtersOf(request: RecordedRequest, known: ReadonlySet<string>): Map<string, string> | Reply {
  const filters = new Map<string, string>();
  for (const [key, value] of request.query) {
    const filter = /^filter\[([a-z-]+)\]$/.exec(key)?.[1];
    if (filter !== undefined && known.has(filter)) filters.set(filter, value);
    else if (filter !== undefined) return personaError(400, 'Bad Request', `Unknown filter ${filter}`);
    else if (key !== 'page[size]' && key !== 'page[after]')
      return personaError(400, 'Bad Request', `Unknown parameter ${key}`);
  }
  return filters;
}

export async function startPersonaStandIn(options: PersonaStandInOptions): Promise<PersonaStandIn> {
  const clock = options.now ?? Date.now;
  const referenceIds = options.referenceIds ?? 'echoed';
  // Persona's times only move forward; successive changes never share a millisecond here.
  let latest = 0;
  const iso = () => new Date((latest = Math.max(clock(), latest + 1))).toISOString();
  const inquiries = new Map<string, StandInInquiry>();
  const accounts = new Map<string, StandInAccount>();
  const accountByReference = new Map<string, StandInAccount>();
  const oneTimeCodes = new Map<string, string>();
  const idempotency = new IdempotencyLayer(clock);
  const environmentId = randomId('env');
  const organizationId = randomId('org');
  const inspect = options.inspect ?? defaultInspector();
  const rateLimit = new PersonaRateLimit(options.rateLimit);
  const webhooks = new WebhookSender(options.webhook, clock, {
    redelivery: options.redelivery,
    onDelivery: options.onDelivery,
    inspect,
  });

  const resource = (inquiry: StandInInquiry) => inquiryResource(inquiry, referenceIds);

  /**
   * What an event says of the inquiry. Persona's own `inquiry.created` example for 2025-12-08 (the
   * vendored document) names neither a reference id nor an account (`"account": {"data": null}`):
   * where the reference sits on the account alone, that event cannot say whose inquiry it is.
   */
  const eventResource = (inquiry: StandInInquiry, name: string) => {
    const data = resource(inquiry);
    return referenceIds === 'on-account-only' && name === 'inquiry.created'
      ? { ...data, relationships: { ...data.relationships, account: { data: null } } }
      : data;
  };

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
        payload: { data: eventResource(inquiry, name), included: [] },
      },
    },
  });

  const accountEventFor = (account: StandInAccount, name: string) => ({
    data: {
      type: 'event' as const,
      id: randomId('evt'),
      attributes: { name, 'created-at': iso(), payload: { data: accountView(account) } },
    },
  });

  /** One account per reference id (reference/persona-api.md); an inquiry without one gets its own. */
  const accountFor = (referenceId: string | null, createdAt: string): StandInAccount => {
    const existing = referenceId === null ? undefined : accountByReference.get(referenceId);
    if (existing !== undefined) return existing;
    const account = { id: randomId('act'), referenceId, createdAt, updatedAt: createdAt, redactedAt: null };
    accounts.set(account.id, account);
    if (referenceId !== null) accountByReference.set(referenceId, account);
    return account;
  };

  const documentOf = options.documentOf ?? ((inquiry: StandInInquiry) => personFromFields(inquiry.fields));

  /** The user submits their document on the way to these statuses; Persona's verification passes. */
  const checkDocument = (inquiry: StandInInquiry) => {
    if (inquiry.verification !== null || !DOCUMENT_CHECKED_STATUSES.has(inquiry.status)) return;
    const checkedAt = iso();
    inquiry.verification = {
      id: randomId('ver'),
      documentId: randomId('doc'),
      createdAt: checkedAt,
      completedAt: checkedAt,
      person: inquiry.document ?? documentOf(inquiry),
    };
  };

  const store = (
    input: Pick<StandInInquiry, 'status' | 'referenceId' | 'templateId' | 'createdAt' | 'fields' | 'note' | 'document'>,
  ) => {
    const inquiry: StandInInquiry = {
      ...input,
      id: randomId('inq'),
      accountId: accountFor(input.referenceId, input.createdAt).id,
      updatedAt: input.createdAt,
      times: {},
      verification: null,
      redactedAt: null,
    };
    const time = statusTime(input.status);
    if (time !== undefined) inquiry.times[time] = input.createdAt;
    checkDocument(inquiry);
    inquiries.set(inquiry.id, inquiry);
    return inquiry;
  };

  const move = (inquiry: StandInInquiry, status: string) => {
    inquiry.status = status;
    checkDocument(inquiry);
    inquiry.updatedAt = iso();
    const time = statusTime(status);
    // A decision made again (a reviewer's) is dated anew: `decisioned-at` is the last decision's time.
    if (time === 'decisioned-at') inquiry.times[time] = inquiry.updatedAt;
    else if (time !== undefined) inquiry.times[time] ??= inquiry.updatedAt;
  };

  /** `include`: the related resources a GET serializes in `included`; verifications only, here. */
  const included = (inquiry: StandInInquiry, request: RecordedRequest): Reply | unknown[] => {
    const paths = (request.query.get('include') ?? '').split(',').filter((path) => path !== '');
    const unknown = paths.filter((path) => path !== 'verifications');
    if (unknown.length > 0) return personaError(400, 'Bad Request', `Cannot include ${unknown.join(', ')}`);
    return paths.length > 0 && inquiry.verification !== null
      ? [governmentIdResource(inquiry.verification, inquiry)]
      : [];
  };

  const simulate = (inquiry: StandInInquiry, actions: SimulateAction[]) => {
    for (const action of actions) {
      move(inquiry, SIMULATE_ACTIONS[action].status);
      webhooks.send(eventFor(inquiry, SIMULATE_ACTIONS[action].event), inquiry.id);
    }
    return inquiry;
  };

  const oneTimeLinks = (inquiry: StandInInquiry) => {
    const code = randomId('otl');
    oneTimeCodes.set(code, inquiry.id);
    return { 'one-time-link': `${server.url}/verify?code=${code}`, 'one-time-link-short': `${server.url}/v/${code}` };
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
      document: undefined,
    });
    webhooks.send(eventFor(inquiry, 'inquiry.created'), inquiry.id);
    const links =
      meta['auto-create-one-time-link'] === true
        ? oneTimeLinks(inquiry)
        : { 'one-time-link': null, 'one-time-link-short': null };
    return { status: 201, body: { data: resource(inquiry), meta: { 'session-token': null, ...links } } };
  };

  /** Resume takes no body (2025-12-08 documents none) and sets an expired inquiry back to pending. */
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
    return { status: 200, body: { data: resource(inquiry), meta: oneTimeLinks(inquiry) } };
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
   * `filter[reference-id]` is "Filter inquiries by reference ID" (2025-12-08): the inquiry's own
   * attribute, as rendered, so where the account alone carries the reference it matches none.
   */
  const listInquiries = (request: RecordedRequest): Reply => {
    const filters = filtersOf(request, INQUIRY_FILTERS);
    if (!(filters instanceof Map)) return filters;
    const template = filters.get('inquiry-template-id') ?? filters.get('template-id');
    const statuses = filters.get('status')?.split(',');
    const start = filters.has('created-at-start') ? Date.parse(filters.get('created-at-start') as string) : -Infinity;
    const end = filters.has('created-at-end') ? Date.parse(filters.get('created-at-end') as string) : Infinity;
    const matching = [...inquiries.values()]
      .filter(
        (inquiry) =>
          (template === undefined || template.split(',').includes(inquiry.templateId)) &&
          (!filters.has('reference-id') ||
            resource(inquiry).attributes['reference-id'] === filters.get('reference-id')) &&
          (!filters.has('account-id') || filters.get('account-id')?.split(',').includes(inquiry.accountId)) &&
          (statuses === undefined || statuses.includes(inquiry.status)) &&
          Date.parse(inquiry.createdAt) >= start &&
          Date.parse(inquiry.createdAt) <= end,
      )
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
    return cursorPage(request, '/api/v1/inquiries', matching, resource);
  };

  /** `GET /accounts?filter[reference-id]=a,b`: the accounts of those reference ids. */
  const listAccounts = (request: RecordedRequest): Reply => {
    const filters = filtersOf(request, new Set(['reference-id']));
    if (!(filters instanceof Map)) return filters;
    const references = filters.get('reference-id')?.split(',');
    const matching = [...accounts.values()]
      .filter((account) => references === undefined || references.includes(account.referenceId ?? ''))
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
    return cursorPage(request, '/api/v1/accounts', matching, accountView);
  };

  const accountView = (account: StandInAccount) => accountResource(account);

  /** `DELETE /inquiries/{id}`: redacted once; asked again, the same answer and no second event. */
  const redactOne = (inquiry: StandInInquiry): Reply => {
    if (inquiry.redactedAt === null) {
      redactInquiry(inquiry, iso(), false);
      webhooks.send(eventFor(inquiry, 'inquiry.redacted'), inquiry.id);
    }
    return { status: 200, body: { data: resource(inquiry) } };
  };

  /** `DELETE /accounts/{id}`: the account and every inquiry under it, each with its event. */
  const redactWhole = (_request: RecordedRequest, [id = '']: string[]): Reply => {
    const account = accounts.get(id);
    if (account === undefined) return personaError(404, 'Not Found', 'Record not found');
    if (account.redactedAt === null) {
      for (const inquiry of redactAccount(account, [...inquiries.values()], iso())) {
        webhooks.send(eventFor(inquiry, 'inquiry.redacted'), inquiry.id);
      }
      webhooks.send(accountEventFor(account, 'account.redacted'), account.id);
    }
    return { status: 200, body: { data: accountView(account) } };
  };

  const withIdempotency =
    (handle: (request: RecordedRequest, params: string[]) => Reply) =>
    (request: RecordedRequest, params: string[]): Reply =>
      idempotency.check(request) ?? handle(request, params);

  const existing =
    (handle: (inquiry: StandInInquiry, request: RecordedRequest) => Reply) =>
    (request: RecordedRequest, [id = '']: string[]): Reply => {
      const inquiry = inquiries.get(id);
      return inquiry === undefined ? personaError(404, 'Not Found', 'Record not found') : handle(inquiry, request);
    };

  /** 401 and 429 are decided before the idempotency layer; authenticated answers carry Persona's headers. */
  const api =
    (handle: Route['handle']): Route['handle'] =>
    async (request, params) => {
      if (request.headers.authorization !== `Bearer ${options.apiKey}`) {
        return personaError(401, 'Must be authenticated to access this endpoint');
      }
      const window = rateLimit.take();
      const reply = window.allowed
        ? await handle(request, params)
        : personaError(429, 'Rate limit exceeded', `You have hit your rate limit of ${window.limit} requests`);
      const headers = {
        'Request-Id': randomId('req'),
        'Persona-Environment-Id': environmentId,
        'Persona-Organization-Id': organizationId,
        'RateLimit-Limit': String(window.limit),
        'RateLimit-Remaining': String(window.remaining),
        'RateLimit-Reset': String(window.resetSeconds),
      };
      return { ...reply, headers: { ...headers, ...reply.headers } };
    };

  const apiRoute = (method: string, path: string, handle: Route['handle']): Route => ({
    method,
    pattern: new RegExp(`^/api/v1${path}$`),
    handle: api(handle),
  });

  const server = await startStandInServer({
    port: options.port,
    host: options.host,
    api: 'persona',
    inspect,
    faultReply: (status) => personaError(status, `Status ${status}`),
    onReply: (request, reply) => idempotency.remember(request, reply),
    routes: [
      apiRoute('POST', '/inquiries', withIdempotency(createInquiry)),
      apiRoute('GET', '/inquiries', listInquiries),
      apiRoute(
        'GET',
        '/inquiries/([^/]+)',
        existing((inquiry, request) => {
          const related = included(inquiry, request);
          return Array.isArray(related)
            ? { status: 200, body: { data: resource(inquiry), included: related } }
            : (related as Reply);
        }),
      ),
      apiRoute('DELETE', '/inquiries/([^/]+)', existing(redactOne)),
      apiRoute('POST', '/inquiries/([^/]+)/resume', withIdempotency(existing(resume))),
      apiRoute('POST', '/inquiries/([^/]+)/generate-one-time-link', withIdempotency(existing(generateOneTimeLink))),
      apiRoute(
        'POST',
        '/inquiries/([^/]+)/perform-simulate-actions',
        withIdempotency(existing(performSimulateActions)),
      ),
      apiRoute('GET', '/accounts', listAccounts),
      apiRoute('GET', '/accounts/([^/]+)', (_request, [id = '']) => {
        const account = accounts.get(id);
        return account === undefined
          ? personaError(404, 'Not Found', 'Record not found')
          : { status: 200, body: { data: accountView(account) } };
      }),
      apiRoute('DELETE', '/accounts/([^/]+)', redactWhole),
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
    environmentId,
    inquiry: (id) => (inquiries.has(id) ? structuredClone(found(id)) : undefined),
    inquiries: () => [...inquiries.values()].map((inquiry) => structuredClone(inquiry)),
    account: (id) => (accounts.has(id) ? structuredClone(accounts.get(id)) : undefined),
    accounts: () => [...accounts.values()].map((account) => structuredClone(account)),
    addInquiry: (input) =>
      store({
        status: input.status ?? 'created',
        referenceId: input.referenceId,
        templateId: input.templateId ?? (options.templateIds[0] as string),
        createdAt: input.createdAt ?? iso(),
        fields: input.fields ?? {},
        note: input.note ?? null,
        document: input.document,
      }),
    setDocument(id, person) {
      const inquiry = found(id);
      inquiry.document = person;
      if (inquiry.verification !== null) inquiry.verification.person = person;
    },
    setStatus(id, status) {
      move(found(id), status);
      return structuredClone(found(id));
    },
    eventFor: (id, name, eventOptions) => eventFor(found(id), name, eventOptions),
    simulate: (id, actions) => structuredClone(simulate(found(id), actions)),
    setWebhook: (target) => webhooks.setTarget(target),
    deliveries: webhooks.deliveries,
    settled: () => webhooks.settled(),
  };
}
