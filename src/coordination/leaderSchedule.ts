import type { Leadership } from './coordination.js';

/**
 * Runs `work` every `intervalMs`, one run at a time, and only while this replica leads (with
 * several replicas, one of them runs it). stop() ends it and hands the lead back.
 */
export function scheduleWhileLeading(
  leadership: Leadership,
  intervalMs: number,
  work: () => Promise<void>,
  onError: (error: unknown) => void,
) {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    void (async () => {
      if (await leadership.claim()) await work();
    })()
      .catch(onError)
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      return leadership.release();
    },
  };
}
