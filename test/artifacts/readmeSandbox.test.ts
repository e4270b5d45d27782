import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { startSandbox, type SandboxEnvironment } from '../../sandbox/environment.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const block = /### Sandbox\n[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';

let sandbox: SandboxEnvironment;
beforeAll(async () => {
  sandbox = await startSandbox({ logger: createLogger({ level: 'silent' }) });
});
afterAll(() => sandbox.close());

/** Runs the block as pasted into a shell, against this sandbox's ports instead of the defaults. */
function paste(commands: string) {
  const port = (url: string | undefined) => new URL(url ?? '').port;
  const script = commands
    .replaceAll('127.0.0.1:3000', `127.0.0.1:${port(sandbox.serviceUrl)}`)
    .replaceAll('127.0.0.1:4434', `127.0.0.1:${port(sandbox.kratos?.url)}`)
    .replaceAll('127.0.0.1:4500', `127.0.0.1:${port(sandbox.persona.url)}`);
  return new Promise<{ code: number | null; output: string }>((resolve) => {
    const shell = spawn('bash', ['-eo', 'pipefail', '-c', script], {
      env: { PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}` },
    });
    let output = '';
    shell.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    shell.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    shell.on('exit', (code) => resolve({ code, output }));
  });
}

describe("the README's sandbox commands", () => {
  it('can be pasted as they are: each takes its ids from the answer before it', async () => {
    expect(block).not.toMatch(/<[a-z_]+>/);
    const { code, output } = await paste(block);
    expect(code, output).toBe(0);
    expect(output).toMatch(/^location: http:\/\/127\.0\.0\.1:\d+\/verify\?inquiry-id=inq_\w+/im);
    expect(output).toContain('{"inquiry":{"id":"inq_');
    expect(output).toMatch(/"url":"http:\/\/127\.0\.0\.1:\d+\/persona\/validate","status":204/);
    expect(output).toMatch(/"url":"http:\/\/127\.0\.0\.1:\d+\/persona\/settings\?method=password","status":204/);
    expect(output).toMatch(/"step_up":\{"fresh":true/);
    expect(output).toMatch(
      /^location: http:\/\/127\.0\.0\.1:\d+\/verify\?inquiry-id=inq_\w+&redirect-uri=http%3A%2F%2F127\.0\.0\.1%3A\d+%2Fpersona%2Frecover%2Freturn/im,
    );

    await sandbox.persona.settled();
    const identityId = /"identity_id":"([0-9a-f-]{36})"/.exec(output)?.[1] ?? '';
    expect(sandbox.kratos?.identity(identityId)?.metadata_public?.['persona']).toMatchObject({ status: 'approved' });
  });
});
