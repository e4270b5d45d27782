import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { CoordinationError } from './coordination/coordination.js';
import { OutboundError } from './outbound/outboundError.js';

export type { Logger };

/**
 * Paths censored wherever they appear. The service logs chosen fields only, never bodies or
 * headers; this list is the safety net for a field added by mistake.
 */
const REDACTED_PATHS = [
  'authorization',
  'cookie',
  'secret',
  'secrets',
  'apiKey',
  'sessionToken',
  'traits',
  'fields',
  '*.authorization',
  '*.Authorization',
  '*.cookie',
  '*.secret',
  '*.apiKey',
  '*.sessionToken',
  '*["session-token"]',
  '*["x-session-token"]',
  '*["x-webhook-secret"]',
  '*.traits',
  '*.fields',
];

export function createLogger(options: { level: string; pretty?: boolean }, destination?: DestinationStream): Logger {
  const loggerOptions: LoggerOptions = {
    level: options.level,
    base: { service: 'ory-persona-idv' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  if (destination !== undefined) return pino(loggerOptions, destination);
  if (options.pretty) return pino({ ...loggerOptions, transport: { target: 'pino-pretty' } });
  // Asynchronous writes to stdout: lines written while a write is under way go out together, where a
  // synchronous write per line costs the login gate a tenth of its time. Flushed on exit (flushAndExit).
  return pino(loggerOptions, pino.destination({ dest: 1, sync: false }));
}

/** Writes out buffered log lines, then exits. */
export function flushAndExit(logger: Logger, code: number): void {
  logger.flush(() => process.exit(code));
}

/** What an error may contribute to a log line: its kind and our own message, never a peer's body. */
export function errorFields(error: unknown): Record<string, unknown> {
  if (error instanceof OutboundError) {
    return {
      error: error.message,
      transient: error.transient,
      ...(error.details.requestId !== undefined && { persona_request_id: error.details.requestId }),
    };
  }
  if (error instanceof CoordinationError) return { error: error.message, transient: true };
  if (error instanceof Error) return { error: error.message, error_type: error.name, stack: error.stack };
  return { error: 'non-error value thrown' };
}
