/**
 * The message ids this service shows through Kratos (product.md, C3). They are part of the public
 * contract: UIs translate by id. The README's table is checked against this list by a test.
 */
export const MESSAGE_IDS = {
  declined: 4100001,
  verificationRequired: 4100002,
  reverificationRequired: 4100003,
  verificationUnavailable: 4100004,
  hookMisconfigured: 4100005,
  stepUpRequired: 4100006,
  verifiedTraitLocked: 4100007,
} as const;

import type { MessageCatalogue, MessageKey } from '../messages/catalogue.js';

export type MessageContext = Record<string, string | number | boolean | null>;

/**
 * The body that makes Kratos interrupt a flow and show a message: messages nested per
 * `instance_ptr`, an integer id, `type: "error"` (reference/kratos-actions.md, "Responses Kratos
 * understands"). `""` puts the message on the form rather than on a field.
 */
export function kratosErrorBody(id: number, text: string, context: MessageContext) {
  return {
    messages: [{ instance_ptr: '', messages: [{ id, text, type: 'error' as const, context }] }],
  };
}

/**
 * A message's text: the operator's LOGIN_MESSAGE_* in every language, else the catalogue's in the
 * language of the browser's Accept-Language, which Kratos forwards to the hook.
 */
export const messageText = (
  catalogue: MessageCatalogue,
  key: MessageKey,
  override: string | undefined,
  acceptLanguage?: string | null,
) => override ?? catalogue.negotiate(acceptLanguage ?? undefined).text(key);
