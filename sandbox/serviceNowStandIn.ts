import { randomBytes } from 'node:crypto';
import { isObject, startStandInServer, type RecordedRequest, type Reply, type StandInServer } from './standInServer.js';

/** An incident as the stand-in keeps it: the Table API's fields, and the work notes added to its journal. */
export interface StandInIncident {
  sys_id: string;
  number: string;
  sys_created_on: string;
  state: string;
  short_description: string;
  description: string;
  correlation_id: string;
  correlation_display: string;
  /** Journal entries of `work_notes`, oldest first (the Table API reads a journal field back as ''). */
  workNotes: string[];
}

export interface ServiceNowStandIn extends StandInServer {
  /** What `SERVICENOW_INSTANCE_URL` is set to. */
  instanceUrl: string;
  incidents: StandInIncident[];
}

/** String fields of `incident` a write may set; ServiceNow ignores fields a table does not have. */
const WRITABLE = ['short_description', 'description', 'correlation_id', 'correlation_display', 'state'] as const;

const failure = (status: number, message: string, detail: string): Reply => ({
  status,
  body: { error: { message, detail }, status: 'failure' },
});

const asRecord = (incident: StandInIncident) => {
  const { workNotes: _journal, ...fields } = incident;
  return { ...fields, work_notes: '' };
};

const pick = (record: Record<string, unknown>, fields: string | null) =>
  fields === null ? record : Object.fromEntries(fields.split(',').map((field) => [field, record[field] ?? '']));

/**
 * `sysparm_query` as the Table API reads it: terms joined by `^`, each `field=value` or
 * `ORDERBY<field>` / `ORDERBYDESC<field>`. Enough of the encoded query language for lookups by a
 * field; anything else is refused rather than answered wrongly.
 */
function query(incidents: StandInIncident[], encoded: string | null): StandInIncident[] | undefined {
  let found = [...incidents];
  for (const term of (encoded ?? '').split('^').filter((part) => part !== '')) {
    const order = /^ORDERBY(DESC)?(\w+)$/.exec(term);
    if (order !== null) {
      const field = order[2] as keyof StandInIncident;
      found.sort((a, b) => String(a[field]).localeCompare(String(b[field])) * (order[1] === undefined ? 1 : -1));
      continue;
    }
    const equal = /^(\w+)=(.*)$/.exec(term);
    if (equal === null) return undefined;
    const [, field = '', value] = equal;
    found = found.filter(
      (incident) => String(asRecord(incident)[field as keyof ReturnType<typeof asRecord>]) === value,
    );
  }
  return found;
}

/**
 * A ServiceNow instance's Table API for `incident` on loopback, held to what the real one does:
 * basic authentication (401 with its error body otherwise), JSON bodies, `POST` answered 201 with
 * the record (a 32-hex `sys_id`, an `INC` number) and its `Location`, `GET` with `sysparm_query`,
 * `sysparm_fields` and `sysparm_limit`, `PATCH` of one record by `sys_id` (404 "No Record found").
 */
export async function startServiceNowStandIn(options: {
  username: string;
  password: string;
  port?: number;
}): Promise<ServiceNowStandIn> {
  const incidents: StandInIncident[] = [];
  const expected = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
  const authenticated = (request: RecordedRequest) => request.headers.authorization === expected;
  const unauthenticated = () => failure(401, 'User Not Authenticated', 'Required to provide Auth information');
  const writable = (request: RecordedRequest) =>
    String(request.headers['content-type'] ?? '').startsWith('application/json') && isObject(request.body);
  const apply = (incident: StandInIncident, body: Record<string, unknown>) => {
    for (const field of WRITABLE) if (typeof body[field] === 'string') incident[field] = body[field];
    if (typeof body['work_notes'] === 'string' && body['work_notes'] !== '')
      incident.workNotes.push(body['work_notes']);
  };
  let url = '';

  const server = await startStandInServer({
    port: options.port,
    faultReply: (status) => failure(status, 'Sandbox fault', `HTTP ${status}`),
    routes: [
      {
        method: 'GET',
        pattern: /^\/api\/now\/table\/incident$/,
        handle(request) {
          if (!authenticated(request)) return unauthenticated();
          const found = query(incidents, request.query.get('sysparm_query'));
          if (found === undefined) return failure(400, 'Invalid query', 'sysparm_query could not be parsed');
          const limit = Number(request.query.get('sysparm_limit') ?? '10000');
          const fields = request.query.get('sysparm_fields');
          return {
            status: 200,
            body: { result: found.slice(0, limit).map((incident) => pick(asRecord(incident), fields)) },
          };
        },
      },
      {
        method: 'POST',
        pattern: /^\/api\/now\/table\/incident$/,
        handle(request) {
          if (!authenticated(request)) return unauthenticated();
          if (!writable(request))
            return failure(400, 'Exception while reading request', 'The payload is not valid JSON.');
          const incident: StandInIncident = {
            sys_id: randomBytes(16).toString('hex'),
            number: `INC${String(10_001 + incidents.length).padStart(7, '0')}`,
            sys_created_on: new Date().toISOString().replace('T', ' ').slice(0, 19),
            state: '1',
            short_description: '',
            description: '',
            correlation_id: '',
            correlation_display: '',
            workNotes: [],
          };
          apply(incident, request.body as Record<string, unknown>);
          incidents.push(incident);
          return {
            status: 201,
            body: { result: asRecord(incident) },
            headers: { Location: `${url}/api/now/table/incident/${incident.sys_id}` },
          };
        },
      },
      {
        method: 'PATCH',
        pattern: /^\/api\/now\/table\/incident\/([^/]+)$/,
        handle(request, [sysId]) {
          if (!authenticated(request)) return unauthenticated();
          const incident = incidents.find((candidate) => candidate.sys_id === sysId);
          if (incident === undefined)
            return failure(404, 'No Record found', "Record doesn't exist or ACL restricts the record retrieval");
          if (!writable(request))
            return failure(400, 'Exception while reading request', 'The payload is not valid JSON.');
          apply(incident, request.body as Record<string, unknown>);
          return { status: 200, body: { result: asRecord(incident) } };
        },
      },
    ],
  });
  url = server.url;
  return { ...server, instanceUrl: server.url, incidents };
}
