import { escapeHtml } from '../src/http/pages.js';
import type { StandInInquiry } from './personaResources.js';
import type { SimulateAction } from './personaSimulation.js';
import type { RecordedRequest, Reply, Route } from './standInServer.js';

/**
 * The sandbox's stand-in for Persona's hosted flow, and the shortcuts to decide an inquiry: what a
 * user finishing the flow and a Persona Workflow or reviewer deciding would do, through the same
 * simulate-actions (so the same signed webhooks follow).
 */

const DECISIONS = ['start', 'complete', 'approve', 'decline', 'review', 'fail', 'expire'] as const;
export type Decision = (typeof DECISIONS)[number];

/** The actions that take an inquiry from where it is to the decision, as a real user and Workflow would. */
function actionsFor(decision: Decision, status: string): SimulateAction[] {
  const started: SimulateAction[] = status === 'created' ? ['start_inquiry'] : [];
  const completed: SimulateAction[] =
    status === 'created' || status === 'pending' ? [...started, 'complete_inquiry'] : [];
  switch (decision) {
    case 'start':
      return ['start_inquiry'];
    case 'complete':
      return completed.length > 0 ? completed : ['complete_inquiry'];
    case 'approve':
      return [...completed, 'approve_inquiry'];
    case 'decline':
      return [...completed, 'decline_inquiry'];
    case 'review':
      return [...completed, 'mark_for_review_inquiry'];
    case 'fail':
      return [...started, 'fail_inquiry'];
    case 'expire':
      return ['expire_inquiry'];
  }
}

const page = (inquiry: StandInInquiry, redirectUri: string) => {
  const button = (decision: Decision, label: string) =>
    `<form method="post" action="/sandbox/inquiries/${escapeHtml(inquiry.id)}/${decision}">` +
    `<input type="hidden" name="redirect-uri" value="${escapeHtml(redirectUri)}">` +
    `<button type="submit">${label}</button></form>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Persona sandbox</title></head>
<body><main>
<h1>Persona sandbox</h1>
<p>Inquiry <code>${escapeHtml(inquiry.id)}</code> is <strong>${escapeHtml(inquiry.status)}</strong>.
This page stands in for Persona's hosted flow; choose what the verification ends in.</p>
${button('approve', 'Complete and approve')}
${button('decline', 'Complete and decline')}
${button('review', 'Complete and send to review')}
</main></body></html>
`;
};

export interface HostedFlowState {
  inquiry(id: string): StandInInquiry | undefined;
  inquiryForCode(code: string): StandInInquiry | undefined;
  simulate(inquiry: StandInInquiry, actions: SimulateAction[]): StandInInquiry;
}

export function hostedFlowRoutes(state: HostedFlowState): Route[] {
  const verify = (request: RecordedRequest): Reply => {
    const code = request.query.get('code');
    const inquiry = code === null ? state.inquiry(request.query.get('inquiry-id') ?? '') : state.inquiryForCode(code);
    if (inquiry === undefined)
      return { status: 404, text: 'No such inquiry', headers: { 'Content-Type': 'text/plain' } };
    return {
      status: 200,
      text: page(inquiry, request.query.get('redirect-uri') ?? ''),
      headers: { 'Content-Type': 'text/html; charset=utf-8' },
    };
  };

  const shortLink = (_request: RecordedRequest, [code = '']: string[]): Reply => ({
    status: 302,
    headers: { Location: `/verify?code=${encodeURIComponent(code)}` },
  });

  const decide = (request: RecordedRequest, [id = '', decision = '']: string[]): Reply => {
    const inquiry = state.inquiry(id);
    if (inquiry === undefined) return { status: 404, body: { errors: [{ title: 'Not Found' }] } };
    state.simulate(inquiry, actionsFor(decision as Decision, inquiry.status));
    const redirectUri = new URLSearchParams(request.rawBody).get('redirect-uri');
    if (redirectUri) {
      // Persona appends the outcome to the redirect-uri; it proves nothing (decisions come by webhook).
      const back = new URL(redirectUri);
      back.searchParams.set('inquiry-id', inquiry.id);
      back.searchParams.set('status', inquiry.status);
      if (inquiry.referenceId !== null) back.searchParams.set('reference-id', inquiry.referenceId);
      return { status: 303, headers: { Location: back.href } };
    }
    return { status: 200, body: { inquiry: { id: inquiry.id, status: inquiry.status } } };
  };

  return [
    { method: 'GET', pattern: /^\/verify$/, handle: verify, sandboxOnly: true },
    // The short form of a one-time link (`one-time-link-short`).
    { method: 'GET', pattern: /^\/v\/([^/]+)$/, handle: shortLink, sandboxOnly: true },
    {
      method: 'POST',
      pattern: new RegExp(`^/sandbox/inquiries/([^/]+)/(${DECISIONS.join('|')})$`),
      handle: decide,
      sandboxOnly: true,
    },
  ];
}
