import { isObject, startStandInServer, type StandInServer } from './standInServer.js';

export interface SlackStandIn extends StandInServer {
  /** What `SLACK_WEBHOOK_URL` is set to: an incoming webhook's address. */
  webhookUrl: string;
  /** The `text` of each message accepted, in order. */
  messages: string[];
}

/** Slack's incoming webhooks answer in plain text: `ok`, or the error's name. */
const answer = (status: number, text: string) => ({ status, text, headers: { 'Content-Type': 'text/html' } });

/**
 * A Slack incoming webhook on loopback, held to what Slack accepts: a POST of a JSON object with
 * a non-empty `text` to the webhook's path, answered `200 ok`; `400 invalid_payload` for a body
 * that is no JSON object, `400 no_text` without text, `404 no_service` on another path.
 */
export async function startSlackStandIn(options: { port?: number } = {}): Promise<SlackStandIn> {
  const path = '/services/T00000000/B00000000/sandboxwebhooktoken0000';
  const messages: string[] = [];
  const server = await startStandInServer({
    port: options.port,
    faultReply: (status) => answer(status, status >= 500 ? 'rollup_error' : 'invalid_payload'),
    routes: [
      {
        method: 'POST',
        pattern: /^\/services\//,
        handle(request) {
          if (request.path !== path) return answer(404, 'no_service');
          if (!String(request.headers['content-type'] ?? '').startsWith('application/json') || !isObject(request.body))
            return answer(400, 'invalid_payload');
          const { text } = request.body;
          if (typeof text !== 'string' || text.trim() === '') return answer(400, 'no_text');
          messages.push(text);
          return answer(200, 'ok');
        },
      },
    ],
  });
  return { ...server, webhookUrl: `${server.url}${path}`, messages };
}
