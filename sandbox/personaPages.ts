import { personaError } from './personaResources.js';
import type { RecordedRequest, Reply } from './standInServer.js';

/**
 * One page of a Persona list, as its list endpoints answer: `page[size]` items (1 to 100, default
 * 10) after the `page[after]` cursor, and `links.next` carrying the request's query with the next
 * cursor, or null on the last page.
 */
export function cursorPage<T extends { id: string }>(
  request: RecordedRequest,
  path: string,
  items: T[],
  view: (item: T) => unknown,
): Reply {
  const size = Number(request.query.get('page[size]') ?? 10);
  if (!Number.isInteger(size) || size < 1 || size > 100)
    return personaError(400, 'Bad Request', 'page[size] must be 1 to 100');
  const after = request.query.get('page[after]');
  const from = after === null ? 0 : items.findIndex((item) => item.id === after) + 1;
  const page = items.slice(from, from + size);
  const last = page.at(-1);
  let next: string | null = null;
  if (last !== undefined && from + size < items.length) {
    const query = new URLSearchParams(request.query);
    query.set('page[after]', last.id);
    next = `${path}?${query}`;
  }
  return { status: 200, body: { data: page.map(view), links: { prev: null, next } } };
}
