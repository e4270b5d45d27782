import { spawnSync } from 'node:child_process';

/**
 * Vitest global setup: the tests evaluate the Kratos templates with the real `jsonnet` interpreter,
 * as Kratos does. Without it, say so in one line and stop before any test runs, instead of a few
 * dozen failures reading `spawn jsonnet ENOENT`.
 */
export default function requireJsonnet(): void {
  const probe = spawnSync('jsonnet', ['--version'], { stdio: 'ignore', timeout: 5_000 });
  if (probe.error === undefined && probe.status === 0) return;
  process.stderr.write(
    'The tests need the jsonnet command: sudo apt-get install -y jsonnet (Debian, Ubuntu) or brew install jsonnet (macOS).\n',
  );
  // Exit rather than throw: vitest prints a thrown setup error with a stack trace around it.
  process.exit(1);
}
