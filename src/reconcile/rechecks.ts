import { errorFields } from '../logger.js';
import { reconcileIdentity, type ReconcileDeps } from './reconcile.js';

/**
 * After the first try (once the write had time to land), further tries while the re-check cannot
 * run: a database failover or restart, which is what loses locks, takes seconds to minutes.
 */
const RETRY_DELAYS_MS = [5_000, 15_000, 60_000, 300_000];

/**
 * Identities whose record may hold a write that landed after its section had lost its lock (the
 * database connection broke while the write was on its way): it may have overwritten what another
 * replica wrote meanwhile, and Kratos has no compare-and-set to refuse it. Each is reconciled
 * against Persona once the write has had time to land, and again until that succeeds. In
 * memory: a replica that stops first leaves it to scheduled reconciliation, as the log line says.
 */
export class Rechecks {
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private stopped = false;
  /** Re-checks run one at a time: a failover loses many locks at once, and Persona rate-limits. */
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly deps: ReconcileDeps) {}

  /**
   * Re-checks the identity once its write had `settleMs` to land; a re-check of it already waiting
   * covers this write too (it starts later), one already running does not.
   */
  schedule(identityId: string, settleMs: number): void {
    if (this.pending.has(identityId)) return;
    this.deps.logger.warn(
      { identity_id: identityId },
      'a record write may have landed after its lock was lost; the identity is re-checked against Persona ' +
        '(should this replica stop first, reconciliation repairs it)',
    );
    this.after(identityId, settleMs, 0);
  }

  /** Drops the re-checks not run yet (at shutdown). */
  stop(): void {
    this.stopped = true;
    for (const timer of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
  }

  private after(identityId: string, delayMs: number, tries: number) {
    if (this.stopped || this.pending.has(identityId)) return;
    const timer = setTimeout(() => {
      this.pending.delete(identityId);
      this.running = this.running
        .then(() => this.run(identityId, tries))
        .catch((error: unknown) =>
          this.deps.logger.error({ identity_id: identityId, ...errorFields(error) }, 're-check failed'),
        );
    }, delayMs);
    timer.unref();
    this.pending.set(identityId, timer);
  }

  private async run(identityId: string, tries: number) {
    if (this.stopped) return;
    const counts = await reconcileIdentity(this.deps, identityId);
    if (counts.failed === 0 && !counts.incomplete) {
      this.deps.logger.info(
        { identity_id: identityId, changed: counts.changed },
        'identity re-checked after a lost lock',
      );
      return;
    }
    const delayMs = RETRY_DELAYS_MS[tries];
    if (delayMs !== undefined) return this.after(identityId, delayMs, tries + 1);
    this.deps.logger.error(
      { identity_id: identityId },
      'identity not re-checked after a lost lock: run npm run reconcile (or keep RECONCILE_INTERVAL set)',
    );
  }
}
