import { randomUUID } from 'node:crypto';
import { renderHookBody, type HookTemplate } from './jsonnet.js';
import { readAsKratos, type KratosReading } from './kratosResponse.js';

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

export interface HookCall {
  url: string;
  body: unknown;
  renderedBy: 'jsonnet' | 'equivalent';
  status: number;
  responseBody: unknown;
  /** What Kratos makes of the answer of a parsed hook (the login gate). */
  reading: KratosReading;
}

const PATHS: Record<HookTemplate, string> = { initiate: '/persona/initiate', validate: '/persona/validate' };

/**
 * Calls one of the service's hooks the way Kratos does: the template's body rendered from `ctx`,
 * POSTed as JSON with the api_key header of ory-actions.yaml and Kratos's correlation headers.
 */
export async function callHook(
  target: HookTarget,
  template: HookTemplate,
  ctx: Parameters<typeof renderHookBody>[1],
): Promise<HookCall> {
  const { body, renderedBy } = await renderHookBody(template, ctx);
  const url = `${target.serviceUrl}${PATHS[template]}`;
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      'X-Webhook-Secret': target.secret,
      'Ory-Webhook-Request-ID': randomUUID(),
      'Ory-Webhook-Trigger-ID': randomUUID(),
    },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  let responseBody: unknown = text;
  try {
    responseBody = text === '' ? undefined : JSON.parse(text);
  } catch {
    // Not JSON: Kratos would show its error page, which readAsKratos reports.
  }
  // ory-actions.yaml: initiate has no response.parse, validate has it.
  const reading = readAsKratos(response.status, responseBody, { parse: template === 'validate' });
  return { url, body, renderedBy, status: response.status, responseBody, reading };
}
