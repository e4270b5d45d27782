import type { IncomingHttpHeaders } from 'node:http';

/**
 * One exchange with a stand-in, as an inspector sees it: what was asked of a published API and
 * what the stand-in answered (no answer: the connection was dropped on purpose). The test suite's
 * inspector holds every exchange to the API's published OpenAPI document; the stand-ins know
 * nothing of the documents themselves.
 */
/** A request as it reached a stand-in, or as the Persona stand-in sent a webhook. */
export interface ExchangeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** Parsed JSON, or undefined when there was no body or it was not JSON. */
  body: unknown;
  rawBody: string;
}

export interface Exchange {
  /** Whose published API the exchange belongs to. */
  api: 'kratos' | 'persona' | 'persona-webhook';
  request: ExchangeRequest;
  reply?: { status: number; headers: Record<string, string>; body: unknown; rawBody: string } | undefined;
}

export type ExchangeInspector = (exchange: Exchange) => void;

let byDefault: ExchangeInspector | undefined;

/**
 * The inspector of every stand-in started without one of its own: the test suite installs its
 * conformance check here once, so no test can start a stand-in that escapes it.
 */
export function inspectExchangesByDefault(inspector: ExchangeInspector | undefined): void {
  byDefault = inspector;
}

export const defaultInspector = (): ExchangeInspector | undefined => byDefault;
