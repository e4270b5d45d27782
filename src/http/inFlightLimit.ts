import type { ServerResponse } from 'node:http';

/**
 * Bounds how many requests are inside a section at once, such as reading a large body: a request
 * stays inside until its response closes, whether it was answered or the client went away.
 */
export class InFlightLimit {
  private inFlight = 0;

  constructor(private readonly max: number) {}

  /** Enters for the request of `res`; false when `max` requests are inside already. */
  tryEnter(res: ServerResponse): boolean {
    if (this.inFlight >= this.max) return false;
    this.inFlight += 1;
    res.once('close', () => {
      this.inFlight -= 1;
    });
    return true;
  }
}
