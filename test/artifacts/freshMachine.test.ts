import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const INSTALL_LINE =
  'The tests need the jsonnet command: sudo apt-get install -y jsonnet (Debian, Ubuntu) or brew install jsonnet (macOS).';

describe('a fresh machine', () => {
  it('without jsonnet, the suite stops before any test with one line naming the install command', () => {
    // A PATH with Node.js and nothing else, as on a machine where jsonnet was never installed.
    const bin = mkdtempSync(join(tmpdir(), 'no-jsonnet-'));
    try {
      symlinkSync(process.execPath, join(bin, 'node'));
      const run = spawnSync(
        process.execPath,
        [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', 'test/unit/duration.test.ts'],
        { cwd: ROOT, env: { PATH: bin, NO_COLOR: '1' }, encoding: 'utf8', timeout: 30_000 },
      );
      expect(run.status).toBe(1);
      expect(run.stderr).toBe(`${INSTALL_LINE}\n`);
      expect(run.stdout).not.toMatch(/Test Files|passed|failed/);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it('without chromium, the browser test file stops with one line naming the install command', () => {
    const run = spawnSync(process.execPath, [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', 'test/browser/'], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', NO_COLOR: '1', CHROMIUM_PATH: '/nonexistent/chromium' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(1);
    const lines = `${run.stdout}${run.stderr}`.split('\n');
    expect(lines).toContain(
      'Error: The browser tests need Chromium at /nonexistent/chromium: sudo apt-get install -y chromium (Debian, Ubuntu), or set CHROMIUM_PATH.',
    );
    expect(lines.filter((line) => /^\s+at /.test(line))).toEqual([]);
  }, 60_000);

  it('the Quick start block itself carries the install line for Debian, Ubuntu and macOS', () => {
    const quickStart = /## Quick start[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const lines = quickStart.split('\n');
    const install = lines.findIndex((line) => line.startsWith('sudo apt-get install -y jsonnet'));
    expect(install).toBeGreaterThan(-1);
    expect(lines[install]).toContain('brew install jsonnet');
    expect(lines.indexOf('npm test')).toBeGreaterThan(install);
  });
});
