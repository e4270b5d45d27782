import { describe, expect, it } from 'vitest';
import { EntryCache } from '../../src/persona/entryCache.js';

describe('EntryCache', () => {
  it('makes one call for concurrent and repeated requests until the value expires', async () => {
    const cache = new EntryCache<string>({ ttlMs: 1_000, maxEntries: 10 });
    let calls = 0;
    const create = async () => `value-${(calls += 1)}`;
    const concurrent = await Promise.all([cache.get('k', 0, create), cache.get('k', 0, create)]);
    expect(concurrent).toEqual(['value-1', 'value-1']);
    expect(await cache.get('k', 999, create)).toBe('value-1');
    expect(await cache.get('k', 1_000, create)).toBe('value-2');
    expect(await cache.get('other', 1_000, create)).toBe('value-3');
  });

  it('does not keep a failure', async () => {
    const cache = new EntryCache<string>({ ttlMs: 1_000, maxEntries: 10 });
    await expect(cache.get('k', 0, async () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    expect(await cache.get('k', 1, async () => 'later')).toBe('later');
  });

  it('keeps at most maxEntries, dropping the oldest', async () => {
    const cache = new EntryCache<string>({ ttlMs: 1_000, maxEntries: 2 });
    for (const key of ['a', 'b', 'c']) await cache.get(key, 0, async () => key);
    expect(await cache.get('a', 0, async () => 'a again')).toBe('a again');
    expect(await cache.get('c', 0, async () => 'c again')).toBe('c');
  });
});
