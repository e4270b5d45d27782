import type { ServerResponse } from 'node:http';
import { errorFields } from '../logger.js';
import { mirrorOf, readMirror, type PublicMirror } from '../verification/record.js';
import { callOptions, requestLocals } from './requestLog.js';
import type { RouteContext } from './routeContext.js';

/** Kratos waits 30 s per attempt, but a login should not: the admin fallback gets two seconds. */
const FALLBACK_BUDGET_MS = 2_000;

/** What a gate knows: the mirror (null: no record), or that the record cannot be read now or interpreted at all. */
export type GateMirror =
  { kind: 'mirror'; mirror: PublicMirror | null } | { kind: 'unreadable'; reason: string } | { kind: 'unavailable' };

/**
 * The mirror a gate decides by: the public mirror the Jsonnet sent (no outbound call), else the
 * admin record's. A mirror written by version 1 that shows no decision may hide a decline that
 * version kept only in `history`: the admin record, replayed, tells (readRecord.ts).
 */
export async function gateMirror(
  context: RouteContext,
  identityId: string,
  sent: unknown,
  res: ServerResponse,
): Promise<GateMirror> {
  const { record: rules } = context.config;
  if (rules.publicMirror) {
    const mirror = readMirror(sent);
    const decided =
      mirror !== undefined && (rules.approvedStatuses.has(mirror.status) || rules.declinedStatuses.has(mirror.status));
    if (mirror !== undefined && (decided || !mirror.fromVersion1)) return { kind: 'mirror', mirror };
  }
  try {
    const stored = await context.store.read(identityId, callOptions(res, FALLBACK_BUDGET_MS));
    const reading = stored.found ? stored.reading : ({ kind: 'none' } as const);
    if (reading.kind === 'unreadable') return { kind: 'unreadable', reason: reading.reason };
    return { kind: 'mirror', mirror: reading.kind === 'record' ? mirrorOf(reading.record) : null };
  } catch (error) {
    requestLocals(res).log.warn(
      { identity_id: identityId, ...errorFields(error) },
      'gate could not read the verification record',
    );
    return { kind: 'unavailable' };
  }
}
