import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { config as loadDotenv } from 'dotenv';
import { parse } from 'yaml';
import { runCommand, UsageError, type CommandSpec } from '../src/commandLine.js';
import { identityConfigPatch } from './identityConfigPatch.js';

const JSONNET_DIR = new URL('../jsonnet/', import.meta.url);

const COMMAND: CommandSpec = {
  name: 'ory-network-patch',
  usage: `usage: ory-network-patch <snippet.yaml> --current <identity-config.json> [--url <https://...>] [--out <file>]

Writes the JSON Patch that \`ory patch project <project-id> --file <file>\` applies to an Ory Network
project: the snippet's hooks (YAML anchors expanded), pointed at the service, with the webhook
secret and the Jsonnet bodies of jsonnet/ inline as base64://. Hooks already in the project's lists
stay; ours from an earlier run and \`session\` are replaced by what the snippet says.

  <snippet.yaml>        ory-actions.yaml, or another snippet of the same shape
  --current <file>      the project's identity configuration now:
                        ory get identity-config --project <project-id> --format json > <file>
  --url <https://...>   where Ory Network reaches the service (default: $PUBLIC_BASE_URL)
  --out <file>          where to write the patch (default ory-network-patch.json, mode 600)
  -h, --help            this text

The webhook secret is read from $ORY_WEBHOOK_SECRET (or a .env file), never from an argument, and
is written only into the patch file. npm run ory-network-patch -- <arguments> runs it from a checkout.
`,
  options: {
    current: { type: 'string' },
    url: { type: 'string' },
    out: { type: 'string', default: 'ory-network-patch.json' },
  },
  maxPositionals: 1,
};

/** `npm run` starts scripts in the project's folder; paths are meant from where it was typed. */
const fromCaller = (path: string) => resolve(process.env['INIT_CWD'] ?? process.cwd(), path);

const readJson = (path: string, what: string): unknown => {
  try {
    return JSON.parse(readFileSync(fromCaller(path), 'utf8'));
  } catch (error) {
    throw new UsageError(`${what}: cannot read ${path} as JSON (${(error as Error).message})`);
  }
};

function serviceUrl(given: string | undefined): string {
  if (given === undefined) throw new UsageError('--url is missing and PUBLIC_BASE_URL is unset');
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new UsageError(`--url: ${given} is not a URL`);
  }
  if (url.protocol !== 'https:' || url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new UsageError(`--url: ${given} must be an https:// address without credentials, query or fragment`);
  }
  return url.href.replace(/\/+$/, '');
}

function webhookSecret(value: string | undefined): string {
  const secrets = (value ?? '').split(',').filter((secret) => secret.trim() !== '');
  if (secrets.length === 0) throw new UsageError('ORY_WEBHOOK_SECRET is unset: Kratos must send it');
  if (secrets.length > 1) {
    throw new UsageError('ORY_WEBHOOK_SECRET lists several secrets: set it to the one Kratos should send');
  }
  const secret = (secrets[0] as string).trim();
  if (secret.length < 16)
    throw new UsageError('ORY_WEBHOOK_SECRET must be at least 16 characters, as the service requires');
  return secret;
}

await runCommand(COMMAND, async ({ values, positionals }) => {
  loadDotenv({ quiet: true });
  const [snippetPath] = positionals;
  if (snippetPath === undefined) throw new UsageError('the snippet is missing, e.g. ory-actions.yaml');
  if (typeof values['current'] !== 'string') throw new UsageError('--current is missing');
  const url = serviceUrl((values['url'] as string | undefined) ?? process.env['PUBLIC_BASE_URL']);
  const secret = webhookSecret(process.env['ORY_WEBHOOK_SECRET']);
  let snippet: unknown;
  try {
    snippet = parse(readFileSync(fromCaller(snippetPath), 'utf8'));
  } catch (error) {
    throw new UsageError(`cannot read ${snippetPath} as YAML (${(error as Error).message})`);
  }
  const current = readJson(values['current'], '--current');
  const target = {
    serviceUrl: url,
    webhookSecret: secret,
    template: (fileName: string) => {
      try {
        return readFileSync(fileURLToPath(new URL(fileName, JSONNET_DIR)), 'utf8');
      } catch {
        throw new UsageError(`${snippetPath} names a body jsonnet/${fileName}, which does not exist`);
      }
    },
  };

  let patch;
  try {
    patch = identityConfigPatch(snippet, current, target);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`${snippetPath}: ${(error as Error).message}`);
  }
  const out = String(values['out']);
  // The file holds the secret: readable by its owner only, also when it existed before.
  writeFileSync(fromCaller(out), '', { mode: 0o600 });
  chmodSync(fromCaller(out), 0o600);
  writeFileSync(fromCaller(out), `${JSON.stringify(patch.operations, null, 2)}\n`);

  for (const change of patch.changes) {
    const notes = [
      change.inheritedFrom && `starts from ${change.inheritedFrom}`,
      change.kept.length > 0 && `keeps ${change.kept.join(', ')}`,
      change.removed.length > 0 && `removes ${change.removed.join(', ')}`,
    ].filter(Boolean);
    process.stdout.write(`${change.path}: ${change.hooks.join(', ')}${notes.length ? ` (${notes.join('; ')})` : ''}\n`);
  }
  process.stdout.write(
    `wrote ${patch.operations.length} operations for ${target.serviceUrl} to ${out} (it holds the webhook secret: ` +
      `delete it once applied)\napply it with: ory patch project <project-id> --file ${out}\n`,
  );
  return 0;
});
