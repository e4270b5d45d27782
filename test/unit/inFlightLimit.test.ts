import { describe, expect, it } from 'vitest';
import { InFlightLimit } from '../../src/http/inFlightLimit.js';

describe('InFlightLimit', () => {
  it('pushes out the request that entered first when a new one finds it full', () => {
    const limit = new InFlightLimit(2);
    const evicted: string[] = [];
    limit.enter(() => evicted.push('first'));
    limit.enter(() => evicted.push('second'));
    expect(evicted).toEqual([]);
    limit.enter(() => evicted.push('third'));
    expect(evicted).toEqual(['first']);
    limit.enter(() => evicted.push('fourth'));
    expect(evicted).toEqual(['first', 'second']);
  });

  it('gives the place of a request that left to the next, and pushes out no one then', () => {
    const limit = new InFlightLimit(2);
    const evicted: string[] = [];
    const leaveFirst = limit.enter(() => evicted.push('first'));
    limit.enter(() => evicted.push('second'));
    leaveFirst();
    leaveFirst();
    limit.enter(() => evicted.push('third'));
    expect(evicted).toEqual([]);
    limit.enter(() => evicted.push('fourth'));
    expect(evicted).toEqual(['second']);
  });
});
