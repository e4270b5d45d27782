import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config.js';
import { MESSAGE_IDS, kratosErrorBody, messageText } from '../kratos/messages.js';
import { errorFields, type Logger } from '../logger.js';
import type { MessageCatalogue } from '../messages/catalogue.js';
import type { Metrics } from '../metrics.js';
import { UNSUPPORTED_MEDIA_TYPE, closeUnlessBodyReceived, isJsonContentType, parseJson, readBody } from './body.js';
import { toHttpError } from './httpError.js';
import { requestLocals, trackRequest } from './requestLog.js';
import { webhookSecretCheck } from './webhookAuth.js';

/** Answers with a JSON body, or none. */
export function sendJson(res: ServerResponse, status: number, body?: object): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(json),
  });
  res.end(json);
}

/** A Kratos hook with `response.parse: true` that allows (204) or interrupts the flow with a message. */
export interface HookGate {
  path: string;
  bodyLimitBytes: number;
  /** Decides from the parsed JSON body and answers; whatever it throws is refused as below. */
  decide(body: unknown, req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Counts a call refused before any decision (wrong secret, bad body, a failure). */
  countRefusal(): void;
}

/**
 * Serves a gate as a plain node:http handler in front of the Express app: the login gate serves
 * every login, and the benchmark showed Express's routing and body parsing costing it most of its
 * time. Kratos shows a gate's message only for a 4xx body in its format; a 5xx or 429 becomes a bare
 * error page after retries (reference/kratos-actions.md), so every failure is answered that way.
 */
export function serveHookGate(
  gate: HookGate,
  deps: { config: Readonly<Config>; metrics: Metrics; logger: Logger; messages: MessageCatalogue },
): (req: IncomingMessage, res: ServerResponse) => void {
  const { config, metrics, logger } = deps;
  const checkWebhookSecret = webhookSecretCheck(config.oryWebhookSecrets);
  const bodyLimits = { limitBytes: gate.bodyLimitBytes, idleTimeoutMs: config.http.bodyIdleTimeoutMs };
  // The body that would say the browser's language is what could not be read: the default language.
  const unavailableText = messageText(
    deps.messages,
    'login.verification_unavailable',
    config.login.messages.unavailable,
  );

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    checkWebhookSecret(req.headers);
    if (!isJsonContentType(req.headers['content-type'])) throw UNSUPPORTED_MEDIA_TYPE;
    await gate.decide(parseJson(await readBody(req, bodyLimits)), req, res);
  }

  function refuse(req: IncomingMessage, res: ServerResponse, error: unknown): void {
    const httpError = toHttpError(error);
    const { log, logFields } = requestLocals(res);
    logFields.error_code = httpError.code;
    gate.countRefusal();
    if (httpError.status >= 500) log.error(errorFields(error), `${gate.path} failed unexpectedly`);
    if (res.headersSent) return;
    closeUnlessBodyReceived(req, res);
    sendJson(
      res,
      httpError.status >= 500 ? 403 : httpError.status,
      kratosErrorBody(MESSAGE_IDS.verificationUnavailable, unavailableText, {
        reason: 'verification_unavailable',
        error: httpError.code,
      }),
    );
  }

  return (req, res) => {
    trackRequest(req, res, logger, metrics, () => gate.path);
    handle(req, res).catch((error: unknown) => refuse(req, res, error));
  };
}
