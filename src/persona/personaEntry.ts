import type { Config } from '../config.js';
import type { CallOptions } from '../outbound/retry.js';
import type { NextStep } from '../verification/nextStep.js';
import type { PersonaApi } from './personaClient.js';

/** How long a one-time link into a pending inquiry stays valid: set, since Persona's default varies. */
export const ONE_TIME_LINK_EXPIRY_SECONDS = 15 * 60;

export interface PersonaEntry {
  inquiryId: string;
  /** For the embedded SDK, and for the hosted flow of a pending inquiry. */
  sessionToken: string | null;
  /** Where a browser continues in Persona's hosted flow. */
  url: string;
}

/** The steps that take the user into an inquiry that exists. */
export type EntryStep = Extract<NextStep, { kind: 'open' | 'resume' }>;
/** The steps that need a Persona call first. */
export type ResumeStep = Extract<NextStep, { kind: 'resume' }>;

/** What a Persona call hands out for a pending or expired inquiry. */
export type EntryCredential = { kind: 'one_time_link'; link: string } | { kind: 'session_token'; sessionToken: string };

type Flow = Pick<Config['persona'], 'hostedFlowUrl' | 'inquiryType'>;

const withQuery = (base: string, parameters: Record<string, string | undefined>) => {
  const url = new URL(base);
  for (const [name, value] of Object.entries(parameters)) if (value !== undefined) url.searchParams.set(name, value);
  return url.href;
};

/**
 * The way into an inquiry, by its status (reference/persona-api.md, "Sending the user to Persona"):
 * a `created` one opens with its id alone; a `pending` one needs a session token or a one-time link
 * (Persona prefers the link for a browser); an `expired` one must be resumed first, which returns a
 * session token.
 */
export const credentialKind = (flow: Flow, step: ResumeStep): EntryCredential['kind'] =>
  !step.expired && flow.inquiryType === 'hosted' ? 'one_time_link' : 'session_token';

/** The Persona call a resume step needs. */
export async function requestEntryCredential(
  persona: PersonaApi,
  flow: Flow,
  step: ResumeStep,
  callOptions: CallOptions,
): Promise<EntryCredential> {
  if (credentialKind(flow, step) === 'one_time_link') {
    const { link } = await persona.generateOneTimeLink(step.inquiryId, ONE_TIME_LINK_EXPIRY_SECONDS, callOptions);
    return { kind: 'one_time_link', link };
  }
  const { sessionToken } = await persona.resumeInquiry(step.inquiryId, callOptions);
  return { kind: 'session_token', sessionToken };
}

/** Where the user continues, with the credential a resume step got from Persona. */
export function entryInto(
  flow: Flow,
  step: EntryStep,
  redirectUri: string | undefined,
  credential: EntryCredential | undefined,
): PersonaEntry {
  const { inquiryId } = step;
  if (credential?.kind === 'one_time_link')
    return { inquiryId, sessionToken: null, url: withQuery(credential.link, { 'redirect-uri': redirectUri }) };
  const sessionToken = credential?.kind === 'session_token' ? credential.sessionToken : undefined;
  const url = withQuery(`${flow.hostedFlowUrl}/verify`, {
    'inquiry-id': inquiryId,
    'redirect-uri': redirectUri,
    'session-token': sessionToken,
  });
  return { inquiryId, sessionToken: sessionToken ?? null, url };
}

/** The inquiry status a step enters: what start and status report to the embedded SDK. */
export const entryStatus = (step: EntryStep) =>
  step.kind === 'open' ? 'created' : step.expired ? 'expired' : 'pending';
