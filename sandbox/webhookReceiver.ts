import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { startStandInServer, type RecordedRequest, type StandInServer } from './standInServer.js';

/** A notification whose signature the receiver verified. */
export interface VerifiedWebhook {
  /** `webhook-id`: the same on every retry of one event. */
  id: string;
  /** `webhook-timestamp`, unix seconds: the attempt's. */
  timestamp: number;
  type: string;
  body: unknown;
}

export interface WebhookReceiver extends StandInServer {
  /** Where the service posts (`NOTIFY_WEBHOOK_URLS`). */
  endpoint: string;
  /** Every delivery whose signature verified, in arrival order (retries and repeats included). */
  verified: VerifiedWebhook[];
  /** How many requests failed verification (401). */
  refused(): number;
}

/** Header values as the `standardwebhooks` package reads them: one string each. */
const singleValued = (headers: RecordedRequest['headers']) =>
  Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : (value ?? '')]),
  );

/**
 * A receiver of Standard Webhooks on loopback, as an operator would write one: it verifies each
 * request with the `standardwebhooks` package (signature over `id.timestamp.body` with the shared
 * `whsec_` secret, timestamp within five minutes) and answers 204, or 401 when it does not verify.
 * Injected faults play before verification, as a failing receiver would.
 */
export async function startWebhookReceiver(options: { secret: string; port?: number }): Promise<WebhookReceiver> {
  const verifier = new Webhook(options.secret);
  const verified: VerifiedWebhook[] = [];
  const server = await startStandInServer({
    port: options.port,
    faultReply: (status) => ({ status, body: { error: `HTTP ${status}` } }),
    routes: [
      {
        method: 'POST',
        pattern: /^\/hooks$/,
        handle(request) {
          let body: unknown;
          try {
            body = verifier.verify(request.rawBody, singleValued(request.headers));
          } catch (error) {
            if (!(error instanceof WebhookVerificationError)) throw error;
            return { status: 401, body: { error: 'signature does not verify' } };
          }
          verified.push({
            id: String(request.headers['webhook-id']),
            timestamp: Number(request.headers['webhook-timestamp']),
            type: String((body as { type?: unknown }).type),
            body,
          });
          return { status: 204 };
        },
      },
    ],
  });
  return {
    ...server,
    endpoint: `${server.url}/hooks`,
    verified,
    refused: () => server.requests.filter((request) => request.status === 401).length,
  };
}
