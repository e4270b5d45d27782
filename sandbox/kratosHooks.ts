import { randomUUID } from 'node:crypto';
import { renderHookBody, type HookTemplate } from './jsonnet.js';
import { readAsKratos, type KratosReading } from './kratosResponse.js';
import { setTimeout as sleep } from 'node:timers/promises';

export interface HookTarget {
  /** Where the service listens, e.g. http://127.0.0.1:3000. */
  serviceUrl: string;
  /** The X-Webhook-Secret value of ory-actions.yaml. */
  secret: string;
  /**
   * Whether registration ends with Kratos's `session` hook (ory-actions.yaml), or leaves the new
   * user signed out (ory-actions.require-approved.yaml). Default: signed in.
   */
  registrationSession?: boolean;
}

/**
 * Kratos's web hook client: ory/x's resilient client as Kratos builds it (driver/registry_default.go,
 * HTTPClient: ResilientClientWithMaxRetry(2), a 30 s timeout per attempt) over go-retryablehttp's
 * DefaultRetryPolicy and DefaultBackoff (oryx/httpx/resilient_client.go): three attempts, waiting 1 s
 * and then 2 s, again after a connection error, a timeout, 429 or a 5xx other than 501.
 */
export const KRATOS_HOOK_CLIENT = { attemptTimeoutMs: 30_000, waitsMs: [1_000, 2_000] } as const;

export interface HookClientTiming {
  attemptTimeoutMs: number;
  /** The wait before each retry; its length is the number of retries. */
  waitsMs: readonly number[];
}

export interface HookCall {
  url: string;
  body: unknown;
  renderedBy: 'jsonnet' | 'equivalent';
  /** The last attempt's status; 0 when it got no answer. */
  status: number;
  /** Every attempt's status, in order (0: no answer). */
  statuses: number[];
  responseBody: unknown;
  /** What Kratos makes of the answer (the login gate's is parsed, initiate's is not). */
  reading: KratosReading;
}

const PATHS: Record<HookTemplate, string> = {
  initiate: '/persona/initiate',
  validate: '/persona/validate',
  settings: '/persona/settings',
};

const retried = (status: number) => status === 0 || status === 429 || (status >= 500 && status !== 501);

/**
 * Calls one of the service's hooks the way Kratos does: the template's body rendered from `ctx`,
 * POSTed as JSON with the api_key header of ory-actions.yaml and Kratos's correlation headers (one
 * trigger id for every attempt, a request id per attempt), retried as Kratos's client retries.
 * A settings hook names its method in the URL, as ory-actions.yaml configures it.
 */
export async function callHook(
  target: HookTarget,
  template: HookTemplate,
  ctx: Parameters<typeof renderHookBody>[1],
  options: { settingsMethod?: string | undefined; timing?: HookClientTiming } = {},
): Promise<HookCall> {
  const { body, renderedBy } = await renderHookBody(template, ctx);
  const timing = options.timing ?? KRATOS_HOOK_CLIENT;
  const query = options.settingsMethod === undefined ? '' : `?method=${encodeURIComponent(options.settingsMethod)}`;
  const url = `${target.serviceUrl}${PATHS[template]}${query}`;
  const triggerId = randomUUID();
  const statuses: number[] = [];
  let text = '';
  for (let attempt = 0; ; attempt += 1) {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'X-Webhook-Secret': target.secret,
          'Ory-Webhook-Request-ID': randomUUID(),
          'Ory-Webhook-Trigger-ID': triggerId,
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timing.attemptTimeoutMs),
      });
      text = await response.text();
      statuses.push(response.status);
    } catch {
      text = '';
      statuses.push(0);
    }
    const wait = timing.waitsMs[attempt];
    if (!retried(statuses.at(-1) as number) || wait === undefined) break;
    await sleep(wait);
  }

  const status = statuses.at(-1) as number;
  let responseBody: unknown = text;
  try {
    responseBody = text === '' ? undefined : JSON.parse(text);
  } catch {
    // Not JSON: kept as text, for the demo to show.
  }
  // ory-actions.yaml: initiate has no response.parse, validate and settings have it.
  const reading: KratosReading =
    status === 0
      ? { kind: 'error_page', why: `no answer after ${statuses.length} attempts` }
      : readAsKratos(status, text, { parse: template !== 'initiate' });
  return { url, body, renderedBy, status, statuses, responseBody, reading };
}
