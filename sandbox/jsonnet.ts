import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const JSONNET_DIR = fileURLToPath(new URL('../jsonnet/', import.meta.url));

/**
 * Evaluates one of the project's templates the way Kratos does: as `function(ctx)` with the
 * context passed as a top-level argument, here through the `jsonnet` command-line interpreter.
 */
export function renderJsonnet(template: 'initiate' | 'validate', ctx: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    execFile(
      'jsonnet',
      ['--tla-code', `ctx=${JSON.stringify(ctx)}`, `${JSONNET_DIR}${template}.jsonnet`],
      { timeout: 10_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`jsonnet ${template}.jsonnet failed: ${stderr.trim() || error.message}`));
        else resolve(JSON.parse(stdout) as unknown);
      },
    );
  });
}
