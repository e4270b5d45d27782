import { judge, type ShortCodeStore, type IssuedCode } from './shortCodeStore.js';

/** Live codes one process keeps at most; more is not help-desk traffic. */
const MAX_LIVE_CODES = 10_000;

/** The embedded default: codes in this process, lost at restart (the agent issues another). */
export function createMemoryShortCodeStore(): ShortCodeStore {
  const codes = new Map<string, IssuedCode>();
  const prune = (nowMs: number) => {
    for (const [handle, code] of codes) if (code.expiresAt <= nowMs) codes.delete(handle);
  };
  return {
    async issue(code, nowMs) {
      prune(nowMs);
      if (codes.has(code.handle)) return 'handle_taken';
      for (const [handle, held] of codes) if (held.identityId === code.identityId) codes.delete(handle);
      if (codes.size >= MAX_LIVE_CODES) return 'full';
      codes.set(code.handle, code);
      return 'issued';
    },
    async redeem(handle, presentedDigest, nowMs) {
      const { redemption, keep } = judge(codes.get(handle), presentedDigest, nowMs);
      if (keep === undefined) codes.delete(handle);
      else codes.set(handle, keep);
      return redemption;
    },
  };
}
