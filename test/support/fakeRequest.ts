import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';

/** A request body as a stream, with the headers a client sent: what the body reader reads. */
export function fakeRequest(headers: Record<string, string> = {}): IncomingMessage & PassThrough {
  const stream = new PassThrough() as PassThrough & { headers: Record<string, string> };
  stream.headers = headers;
  return stream as unknown as IncomingMessage & PassThrough;
}
