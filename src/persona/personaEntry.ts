import type { Config } from '../config.js';
import type { CallOptions } from '../outbound/retry.js';
import type { NextStep } from '../verification/nextStep.js';
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

/** The steps that take the user into an inquiry that exists. */
export type EntryStep = Extract<NextStep, { kind: 'open' | 'resume' }>;

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
  persona: PersonaApi,
  flow: Pick<Config['persona'], 'hostedFlowUrl' | 'inquiryType'>,
  step: EntryStep,
  redirectUri: string | undefined,
  callOptions: CallOptions,
): Promise<PersonaEntry> {
  const inquiryId = step.inquiryId;
  const hosted = (sessionToken?: string) =>
    withQuery(`${flow.hostedFlowUrl}/verify`, {
      'inquiry-id': inquiryId,
      'redirect-uri': redirectUri,
      'session-token': sessionToken,
    });

  if (step.kind === 'open') return { inquiryId, sessionToken: null, url: hosted() };
  if (!step.expired && flow.inquiryType === 'hosted') {
    // Persona prefers single-use links for handing a pending inquiry to a browser.
    const { link } = await persona.generateOneTimeLink(inquiryId, ONE_TIME_LINK_EXPIRY_SECONDS, callOptions);
    return { inquiryId, sessionToken: null, url: withQuery(link, { 'redirect-uri': redirectUri }) };
  }
  const { sessionToken } = await persona.resumeInquiry(inquiryId, callOptions);
  return { inquiryId, sessionToken, url: hosted(sessionToken) };
}

/** The inquiry status a step enters: what start and status report to the embedded SDK. */
export const entryStatus = (step: EntryStep) =>
  step.kind === 'open' ? 'created' : step.expired ? 'expired' : 'pending';
