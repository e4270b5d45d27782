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
      'Error: The browser tests need Chromium at /nonexistent/chromium: sudo apt-get install -y chromium (Debian), or set CHROMIUM_PATH to a Chrome or Chromium (Ubuntu: Google Chrome, /usr/bin/google-chrome).',
    );
    expect(lines.filter((line) => /^\s+at /.test(line))).toEqual([]);
  }, 60_000);

  it('the Quick start block itself carries the install lines, jsonnet on its own so no other package keeps it out', () => {
    const quickStart = /## Quick start[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const lines = quickStart.split('\n');
    const command = (line: string) => line.split('#')[0]?.trim();
    // One apt-get per package: Ubuntu has no Debian chromium package, and one unknown package
    // fails the whole apt-get line, jsonnet with it.
    const jsonnet = lines.findIndex((line) => command(line) === 'sudo apt-get install -y jsonnet');
    expect(jsonnet).toBeGreaterThan(-1);
    expect(lines[jsonnet]).toContain('brew install jsonnet');
    const chromium = lines.findIndex((line) => command(line) === 'sudo apt-get install -y chromium');
    expect(chromium).toBeGreaterThan(-1);
    expect(lines[chromium]).toMatch(/Ubuntu and macOS: CHROMIUM_PATH/);
    expect(lines.indexOf('npm test')).toBeGreaterThan(Math.max(jsonnet, chromium));
    expect(readme).toMatch(/CHROMIUM_PATH=\/usr\/bin\/google-chrome npm test/);
  });
});
