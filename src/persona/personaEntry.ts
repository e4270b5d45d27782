import type { InquiryType } from '../config.js';
import type { CallOptions } from '../outbound/retry.js';
import type { PersonaApi } from './personaClient.js';

/** How long a one-time link into a pending inquiry stays valid: set, since Persona's default varies. */
const ONE_TIME_LINK_EXPIRY_SECONDS = 15 * 60;

export interface PersonaEntry {
  inquiryId: string;
  /** For the embedded SDK, and for the hosted flow of a pending inquiry. */
  sessionToken: string | null;
  /** Where a browser continues in Persona's hosted flow. */
  url: string;
}

export interface PersonaEntryOptions {
  persona: PersonaApi;
  hostedFlowUrl: string;
  inquiryType: InquiryType;
}

const withQuery = (base: string, parameters: Record<string, string | undefined>) => {
  const url = new URL(base);
  for (const [name, value] of Object.entries(parameters)) if (value !== undefined) url.searchParams.set(name, value);
  return url.href;
};

/**
 * The way into an inquiry, by its status (reference/persona-api.md, "Sending the user to Persona"):
 * a `created` one opens with its id alone; a `pending` one needs a session token or a one-time link;
 * an `expired` one must be resumed first, which returns a session token.
 */
export async function enterPersona(
  options: PersonaEntryOptions,
  inquiry: { id: string; status: 'created' | 'pending' | 'expired' },
  redirectUri: string | undefined,
  callOptions: CallOptions,
): Promise<PersonaEntry> {
  const hosted = (sessionToken?: string) =>
    withQuery(`${options.hostedFlowUrl}/verify`, {
      'inquiry-id': inquiry.id,
      'redirect-uri': redirectUri,
      'session-token': sessionToken,
    });

  if (inquiry.status === 'created') return { inquiryId: inquiry.id, sessionToken: null, url: hosted() };
  if (inquiry.status === 'pending' && options.inquiryType === 'hosted') {
    // Persona prefers single-use links for handing a pending inquiry to a browser.
    const { link } = await options.persona.generateOneTimeLink(inquiry.id, ONE_TIME_LINK_EXPIRY_SECONDS, callOptions);
    return { inquiryId: inquiry.id, sessionToken: null, url: withQuery(link, { 'redirect-uri': redirectUri }) };
  }
  const { sessionToken } = await options.persona.resumeInquiry(inquiry.id, callOptions);
  return { inquiryId: inquiry.id, sessionToken, url: hosted(sessionToken) };
}
