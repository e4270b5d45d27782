import { z } from 'zod';
import type { NotificationsConfig } from '../../config.js';
import { httpFailure, networkFailure, type Channel, type DeliveryResult } from '../channel.js';
import type { NotificationEvent } from '../notificationEvent.js';
import { personaDashboardLink } from './personaDashboard.js';

const TABLE = '/api/now/table/incident';
/** Shown in the incident's "Correlation display", so agents see where it came from. */
const CORRELATION_DISPLAY = 'ory-persona-idv';

const found = z.object({ result: z.array(z.object({ sys_id: z.string().regex(/^[0-9a-f]{32}$/) })) });

/** The incident's correlation id: the inquiry, so every decision about it lands on one incident. */
export const correlationIdOf = (event: NotificationEvent) => event.data.inquiry_id ?? event.data.identity_id;

const TITLES: Record<NotificationEvent['type'], string> = {
  'verification.approved': 'Identity verification approved',
  'verification.declined': 'Identity verification declined',
  'verification.needs_review': 'Identity verification needs review',
  'verification.mismatch': 'Identity verification: document does not match the account',
  'verification.expired': 'Identity verification expired',
  'verification.reverification_required': 'Identity re-verification required',
  'recovery.completed': 'Account recovered by identity verification',
};

/** What the incident says: ids, statuses and times, and where to look in Persona. */
function describe(event: NotificationEvent): string {
  const { data } = event;
  return [
    `Event: ${event.type}`,
    `Identity: ${data.identity_id}`,
    data.inquiry_id === null ? undefined : `Inquiry: ${data.inquiry_id} (${personaDashboardLink(data.inquiry_id)})`,
    data.purpose === null ? undefined : `Purpose: ${data.purpose}`,
    data.status === null ? undefined : `Status: ${data.status}`,
    data.decided_at === null ? undefined : `Decided at: ${data.decided_at}`,
    data.standing_decision === null ? undefined : `Standing decision: ${data.standing_decision.status}`,
  ]
    .filter((line) => line !== undefined)
    .join('\n');
}

/**
 * ServiceNow incidents through the Table API (SERVICENOW_INSTANCE_URL, basic authentication). An
 * event of SERVICENOW_EVENTS opens an incident whose `correlation_id` is the inquiry, unless one
 * is open for it already; every later event of the same inquiry (a review that ends in an approval
 * or a decline) adds a work note to that incident instead of opening another. The incident is
 * found by `GET ?sysparm_query=correlation_id=<id>` before each write, so nothing but ServiceNow
 * itself needs to remember it. Inquiry and identity ids hold no `^`, the query's separator.
 */
export function serviceNowChannel(config: NonNullable<NotificationsConfig['serviceNow']>): Channel {
  const authorization = `Basic ${Buffer.from(`${config.username}:${config.password}`).toString('base64')}`;
  const call = (path: string, init: { method: string; body?: unknown; signal: AbortSignal }) =>
    fetch(`${config.instanceUrl}${path}`, {
      method: init.method,
      headers: {
        Authorization: authorization,
        Accept: 'application/json',
        ...(init.body !== undefined && { 'Content-Type': 'application/json' }),
      },
      ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
      redirect: 'manual',
      signal: init.signal,
    });

  async function incidentOf(correlationId: string, signal: AbortSignal): Promise<string | null | DeliveryResult> {
    const query = new URLSearchParams({
      sysparm_query: `correlation_id=${correlationId}^ORDERBYDESCsys_created_on`,
      sysparm_fields: 'sys_id',
      sysparm_limit: '1',
    });
    const response = await call(`${TABLE}?${query}`, { method: 'GET', signal });
    if (!response.ok) {
      await response.body?.cancel();
      return httpFailure(response);
    }
    const parsed = found.safeParse(await response.json().catch(() => undefined));
    if (!parsed.success) return { kind: 'failed', reason: 'invalid_response' };
    return parsed.data.result[0]?.sys_id ?? null;
  }

  return {
    kind: 'servicenow',
    async deliver(delivery, signal) {
      const event = delivery.body as NotificationEvent;
      const correlationId = correlationIdOf(event);
      try {
        const incident = await incidentOf(correlationId, signal);
        if (typeof incident === 'object' && incident !== null) return incident;
        let response: Response;
        if (incident !== null) {
          response = await call(`${TABLE}/${incident}`, {
            method: 'PATCH',
            body: { work_notes: describe(event) },
            signal,
          });
        } else if (config.events.has(event.type)) {
          response = await call(TABLE, {
            method: 'POST',
            body: {
              short_description: `${TITLES[event.type]}: identity ${event.data.identity_id}`,
              description: describe(event),
              correlation_id: correlationId,
              correlation_display: CORRELATION_DISPLAY,
            },
            signal,
          });
        } else {
          // Nothing open about this inquiry, and this event opens nothing.
          return { kind: 'delivered' };
        }
        await response.body?.cancel();
        return response.ok ? { kind: 'delivered' } : httpFailure(response);
      } catch (error) {
        return networkFailure(error);
      }
    },
  };
}
