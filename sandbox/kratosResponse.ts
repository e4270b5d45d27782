import { z } from 'zod';

/**
 * How Kratos reads a web hook's answer when the hook has `response.parse` (reference/kratos-actions.md,
 * "Responses Kratos understands"), written independently of the service: 429 and 5xx are retried and
 * their bodies dropped; a 4xx interrupts only with nested messages carrying integer ids. The tests,
 * the demo and the Kratos stand-in's sandbox logins read the service's answers through it.
 */
const kratosMessage = z
  .object({
    id: z.number().int(),
    text: z.string(),
    type: z.string(),
    context: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

const interruption = z
  .object({
    messages: z.array(z.object({ instance_ptr: z.string(), messages: z.array(kratosMessage).min(1) }).strict()).min(1),
  })
  .strict();

export type KratosReading =
  | { kind: 'continue' }
  | { kind: 'interrupt'; id: number; text: string; type: string; context: Record<string, unknown>; formLevel: boolean }
  | { kind: 'error_page'; why: string };

const parseJson = (text: string): { ok: true; value: unknown } | { ok: false } => {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
};

/**
 * `parse` is the hook's `response.parse`; without it only the status counts (>= 400: an error page).
 * `rawBody` is the answer's bytes as text: Kratos unmarshals them itself (selfservice/hook/web_hook.go,
 * parseWebhookResponse), so a 200 whose body is not a JSON object (or null) fails the flow.
 */
export function readAsKratos(
  status: number,
  rawBody: string,
  hook: { parse: boolean } = { parse: true },
): KratosReading {
  if (status === 429 || (status >= 500 && status !== 501))
    return { kind: 'error_page', why: `retried status ${status}` };
  if (!hook.parse)
    return status < 400
      ? { kind: 'continue' }
      : { kind: 'error_page', why: `status ${status} of a hook without parse` };
  if (status === 200) {
    const json = parseJson(rawBody);
    const decodable =
      json.ok && (json.value === null || (typeof json.value === 'object' && !Array.isArray(json.value)));
    return decodable ? { kind: 'continue' } : { kind: 'error_page', why: 'a 200 body that is not a JSON object' };
  }
  if (status < 400) return { kind: 'continue' };
  const json = parseJson(rawBody);
  const parsed = interruption.safeParse(json.ok ? json.value : undefined);
  if (!parsed.success) return { kind: 'error_page', why: 'body is not a Kratos message list' };
  const group = parsed.data.messages[0];
  const message = group?.messages[0];
  if (group === undefined || message === undefined) return { kind: 'error_page', why: 'no message' };
  return {
    kind: 'interrupt',
    id: message.id,
    text: message.text,
    type: message.type,
    context: message.context ?? {},
    formLevel: group.instance_ptr === '' || group.instance_ptr === '#/',
  };
}
