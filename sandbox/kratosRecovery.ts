import { randomInt, randomUUID } from 'node:crypto';
import { escapeHtml } from '../src/http/pages.js';
import { kratosError } from './kratosError.js';
import type { HookCall } from './kratosHooks.js';
import { isObject, type RecordedRequest, type Reply, type Route } from './standInServer.js';

/**
 * Recovery codes the way Kratos's admin API creates them (`POST /admin/recovery/code`, ory/kratos
 * selfservice/strategy/code/strategy_recovery_admin.go), and the recovery flow that takes them: a
 * small stand-in for the recovery UI, where the code is entered; the recovery.after hooks run
 * (the login gate), and only then is a session issued.
 */

/** Kratos's `expires_in`: a Go duration such as `1h`, `10m` or `1m30s`. */
const GO_DURATION = /^(?:[0-9]+(?:\.[0-9]+)?(?:ns|us|µs|ms|s|m|h))+$/;
const GO_UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
/** Kratos's `selfservice.methods.code.config.lifespan` default. */
const DEFAULT_LIFESPAN_MS = 3_600_000;
/** Kratos's code length, and how many wrong codes a flow takes before it is spent. */
const CODE_LENGTH = 6;
const MAX_ATTEMPTS = 5;

const goDurationMs = (text: string) =>
  [...text.matchAll(/([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)/g)].reduce(
    (total, [, amount, unit]) => total + Number(amount) * (GO_UNIT_MS[unit as string] ?? 0),
    0,
  );

interface RecoveryFlow {
  id: string;
  identityId: string;
  code: string;
  expiresAt: number;
  attempts: number;
  used: boolean;
}

export interface RecoveryHost {
  baseUrl(): string;
  hasIdentity(id: string): boolean;
  /** The recovery.after hooks for the identity (ory-actions.yaml: the login gate). */
  runRecoveryHooks(identityId: string): Promise<HookCall>;
  createSession(identityId: string): { token: string; cookie: string };
}

export type RecoveryResult =
  | { kind: 'recovered'; identityId: string; hook: HookCall; session: { token: string; cookie: string } }
  | { kind: 'blocked'; identityId: string; hook: HookCall }
  | { kind: 'invalid'; reason: string };

const page = (title: string, body: string): Reply => ({
  status: 200,
  text: `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>
`,
  headers: { 'Content-Type': 'text/html; charset=utf-8' },
});

export function recoveryCodes(host: RecoveryHost, now: () => number = Date.now) {
  const flows = new Map<string, RecoveryFlow>();

  const create = (request: RecordedRequest): Reply => {
    const body = request.body;
    if (!isObject(body)) return kratosError(400, 'Bad Request', 'The request body must be a JSON object.');
    const { identity_id: identityId, expires_in: expiresIn, flow_type: flowType } = body;
    if (typeof identityId !== 'string' || !/^[0-9a-f-]{36}$/i.test(identityId)) {
      return kratosError(400, 'Bad Request', 'identity_id must be a UUID');
    }
    if (
      expiresIn !== undefined &&
      expiresIn !== '' &&
      (typeof expiresIn !== 'string' || !GO_DURATION.test(expiresIn))
    ) {
      return kratosError(
        400,
        'Bad Request',
        'Unable to parse "expires_in" as a duration string (e.g. "1h", "1m30s", "500ms")',
      );
    }
    const lifespanMs =
      typeof expiresIn === 'string' && expiresIn !== '' ? goDurationMs(expiresIn) : DEFAULT_LIFESPAN_MS;
    if (lifespanMs <= 0) return kratosError(400, 'Bad Request', 'Value from "expires_in" must result to a future time');
    if (flowType !== undefined && flowType !== 'api' && flowType !== 'browser') {
      return kratosError(400, 'Bad Request', 'Value from "flow_type" is not valid');
    }
    if (!host.hasIdentity(identityId)) return kratosError(404, 'Not Found', 'could not find identity');
    const flow: RecoveryFlow = {
      id: randomUUID(),
      identityId,
      code: String(randomInt(0, 10 ** CODE_LENGTH)).padStart(CODE_LENGTH, '0'),
      expiresAt: now() + lifespanMs,
      attempts: 0,
      used: false,
    };
    flows.set(flow.id, flow);
    return {
      status: 201,
      body: {
        recovery_link: `${host.baseUrl()}/sandbox/recovery?flow=${flow.id}`,
        recovery_code: flow.code,
        expires_at: new Date(flow.expiresAt).toISOString(),
      },
    };
  };

  /** Enters a code in a recovery flow, as the user does on the recovery page. */
  const recover = async (flowId: string, code: string): Promise<RecoveryResult> => {
    const flow = flows.get(flowId);
    if (flow === undefined || flow.used || flow.expiresAt <= now() || flow.attempts >= MAX_ATTEMPTS) {
      return { kind: 'invalid', reason: 'The recovery flow expired or was used. Please start again.' };
    }
    if (code !== flow.code) {
      flow.attempts += 1;
      return { kind: 'invalid', reason: 'The recovery code is invalid or has already been used. Please try again.' };
    }
    flow.used = true;
    const hook = await host.runRecoveryHooks(flow.identityId);
    // An interrupting hook gives the user a new recovery flow with the message and no session.
    if (hook.reading.kind !== 'continue') return { kind: 'blocked', identityId: flow.identityId, hook };
    return { kind: 'recovered', identityId: flow.identityId, hook, session: host.createSession(flow.identityId) };
  };

  const form = (flowId: string, problem?: string) =>
    page(
      'Recover your account',
      `${problem === undefined ? '' : `<p role="alert">${escapeHtml(problem)}</p>`}
<form method="post" action="/sandbox/recovery?flow=${escapeHtml(flowId)}">
<label for="code">Recovery code</label> <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required>
<button type="submit">Continue</button></form>`,
    );

  const routes: Route[] = [
    { method: 'GET', pattern: /^\/sandbox\/recovery$/, handle: (request) => form(request.query.get('flow') ?? '') },
    {
      method: 'POST',
      pattern: /^\/sandbox\/recovery$/,
      handle: async (request) => {
        const flowId = request.query.get('flow') ?? '';
        const code = isObject(request.body)
          ? String(request.body['code'] ?? '')
          : (new URLSearchParams(request.rawBody).get('code') ?? '');
        const result = await recover(flowId, code.trim());
        if (result.kind === 'invalid') return form(flowId, result.reason);
        if (result.kind === 'blocked') {
          const text = result.hook.reading.kind === 'interrupt' ? result.hook.reading.text : 'Recovery failed.';
          return page('Recovery stopped', `<p role="alert">${escapeHtml(text)}</p>`);
        }
        // Kratos signs the user in with a privileged session and sends them to the settings flow.
        const reply = page(
          'Account recovered',
          '<p>You are signed in. Set a new password or security key in your account settings now.</p>',
        );
        return { ...reply, headers: { ...reply.headers, 'Set-Cookie': `${result.session.cookie}; Path=/; HttpOnly` } };
      },
    },
  ];

  return { create, recover, routes };
}
