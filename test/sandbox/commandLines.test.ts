import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The development commands, run as `npm run <name>` runs them (bench without the build its pre-script runs first). */
const COMMANDS = [
  ['demo', 'sandbox/demo.ts', 'usage: demo'],
  ['sandbox', 'sandbox/sandbox.ts', 'usage: sandbox'],
  ['postgres', 'sandbox/postgres.ts', 'usage: postgres'],
  ['bench', 'bench/bench.ts', 'usage: bench [--short] [--no-profile] [--only <text>]'],
] as const;

const run = (script: string, args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', NO_COLOR: '1' },
    encoding: 'utf8',
    timeout: 30_000,
  });

describe('the development commands', () => {
  // Before this, each ignored its arguments: `npm run bench -- --shrot` ran the whole benchmark.
  it.each(COMMANDS)('%s prints its usage for --help and exits 0, starting nothing', (_name, script, usage) => {
    const result = run(script, ['--help']);
    expect(result.status).toBe(0);
    expect(result.stdout.split('\n')[0]).toBe(usage);
    expect(result.stderr).toBe('');
  });

  it.each(COMMANDS)('%s names a wrong argument and exits 2', (name, script, usage) => {
    const result = run(script, ['--shrot']);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(`${name}: unknown option --shrot\n${usage}\nRun it with --help for more.\n`);
    expect(result.stdout).toBe('');
  });

  it('bench names an option missing its value', () => {
    const result = run('bench/bench.ts', ['--only']);
    expect(result.status).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe('bench: --only needs a value');
  });
});
