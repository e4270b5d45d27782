import { runCommand, type CommandSpec } from '../src/commandLine.js';
import { ConfigError } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { SANDBOX, passThrough, startSandbox } from './environment.js';
import type { SelfServiceEvent } from './kratosStandIn.js';
import { startPersonaStandIn } from './personaStandIn.js';
import type { Delivery } from './personaWebhooks.js';
import { sandboxGuide, type SandboxGuide } from './sandboxGuide.js';

/**
 * `npm run sandbox`: the service and the stand-ins, kept running for curl, a browser or a local
 * Kratos. The service's own variables (LOGIN_POLICY and the rest) pass through, but those that
 * wire it to the stand-ins. `SANDBOX_ONLY=persona` runs the Persona stand-in alone
 * (docker-compose.example.yml).
 */

const COMMAND: CommandSpec = {
  name: 'sandbox',
  usage: `usage: sandbox

Runs the service with stand-ins for Persona, Kratos (its admin and public APIs and sign-in pages)
and your app on loopback, until Ctrl-C, and prints what to try next with the real ids. Takes no
arguments: the environment configures it.

  The service's variables (LOGIN_POLICY and the rest) pass through to it, but those that wire it
  to the stand-ins (README, "Sandbox").
  SANDBOX_SERVICE_PORT (3000), SANDBOX_KRATOS_PORT (4434), SANDBOX_KRATOS_PUBLIC_PORT (4433),
  SANDBOX_KRATOS_UI_PORT (4455), SANDBOX_PERSONA_PORT (4500), SANDBOX_APP_PORT (4000): the ports.
  SANDBOX_HOST (127.0.0.1): where the servers listen.
  KRATOS_ADMIN_URL and KRATOS_PUBLIC_URL: your own Kratos instead of the stand-in.
  SANDBOX_ONLY=persona: the Persona stand-in alone, with PERSONA_API_KEY, PERSONA_TEMPLATE_ID,
  PERSONA_WEBHOOK_SECRET and PERSONA_WEBHOOK_URL (docker-compose.example.yml).

Exit status: 0 when stopped, 1 for a wrong variable or a port that cannot be used, 2 for an argument.
`,
  options: {},
};

const env = process.env;
/** Each port variable with the value it defaults to. */
const PORTS = {
  SANDBOX_SERVICE_PORT: 3000,
  SANDBOX_KRATOS_PORT: 4434,
  SANDBOX_KRATOS_PUBLIC_PORT: 4433,
  SANDBOX_KRATOS_UI_PORT: 4455,
  SANDBOX_PERSONA_PORT: 4500,
  SANDBOX_APP_PORT: 4000,
} as const;
type PortVariable = keyof typeof PORTS;

/** The port a variable names (0: any free one), or a ConfigError naming it. */
function port(name: PortVariable): number {
  const text = env[name]?.trim() || String(PORTS[name]);
  const value = Number(text);
  if (!/^\d+$/.test(text) || value > 65_535) throw new ConfigError([`${name}: must be a port number, 0 to 65535`]);
  return value;
}

/**
 * A server that could not listen (a port in use, one that needs privileges): names the variables
 * that chose that port, so the fix is one line away; other errors are not ours to explain.
 */
function listenProblem(error: unknown, used: PortVariable[]): ConfigError | undefined {
  const { code, port: taken } = error as { code?: string; port?: number };
  const reasons: Record<string, string> = {
    EADDRINUSE: 'is in use by another program',
    EACCES: 'needs privileges this user lacks',
    EADDRNOTAVAIL: 'is not available on SANDBOX_HOST',
  };
  const reason = code === undefined ? undefined : reasons[code];
  if (reason === undefined) return undefined;
  const named = used.filter((name) => port(name) === taken);
  const variables = named.length > 0 ? named : used;
  return new ConfigError(
    variables.map((name) => `${name}: port ${taken ?? port(name)} ${reason}; set ${name} to a free port (0: any)`),
  );
}
const host = env['SANDBOX_HOST'] ?? '127.0.0.1';
const print = (line = '') => process.stdout.write(`${line}\n`);
const printDelivery = (delivery: Delivery) =>
  print(
    `[persona] webhook ${delivery.name} ${delivery.eventId}: attempt ${delivery.attempts} answered ${delivery.lastStatus || 'nothing'} (${delivery.state})`,
  );

async function personaOnly() {
  const required = ['PERSONA_API_KEY', 'PERSONA_TEMPLATE_ID', 'PERSONA_WEBHOOK_SECRET', 'PERSONA_WEBHOOK_URL'];
  const missing = required.filter((name) => !env[name]);
  if (missing.length > 0)
    throw new ConfigError(missing.map((name) => `${name}: is required with SANDBOX_ONLY=persona`));
  const persona = await startPersonaStandIn({
    apiKey: env['PERSONA_API_KEY'] as string,
    templateIds: (env['PERSONA_TEMPLATE_ID'] as string).split(','),
    webhook: {
      url: env['PERSONA_WEBHOOK_URL'] as string,
      secrets: (env['PERSONA_WEBHOOK_SECRET'] as string).split(','),
    },
    port: port('SANDBOX_PERSONA_PORT'),
    host,
    onDelivery: printDelivery,
  });
  print(
    `Persona stand-in on ${host}:${new URL(persona.url).port}: API at /api/v1, hosted flow at /verify, decisions at /sandbox/inquiries/<id>/<approve|decline|review|fail|expire>`,
  );
  return () => persona.close();
}

async function everything() {
  const kratosAdminUrl = env['KRATOS_ADMIN_URL'];
  const kratosPublicUrl = env['KRATOS_PUBLIC_URL'];
  const settings = passThrough(env);
  // Events arrive once the servers run; the guide needs their addresses, known only then.
  let guide: SandboxGuide | undefined;
  const sandbox = await startSandbox({
    ports: {
      service: port('SANDBOX_SERVICE_PORT'),
      kratos: port('SANDBOX_KRATOS_PORT'),
      kratosPublic: port('SANDBOX_KRATOS_PUBLIC_PORT'),
      kratosUi: port('SANDBOX_KRATOS_UI_PORT'),
      persona: port('SANDBOX_PERSONA_PORT'),
      app: port('SANDBOX_APP_PORT'),
    },
    host,
    env: settings,
    ...(kratosAdminUrl !== undefined && { kratosAdminUrl }),
    ...(kratosPublicUrl !== undefined && { kratosPublicUrl }),
    logger: createLogger({ level: env['LOG_LEVEL'] ?? 'info', pretty: true }),
    onDelivery: (delivery) => {
      printDelivery(delivery);
      guide?.delivery(delivery, sandbox.persona.inquiry(delivery.inquiryId)?.referenceId ?? null);
    },
    onSelfService: (event: SelfServiceEvent) => guide?.selfService(event),
  });
  const { serviceUrl: service, config, kratos, kratosUi, app } = sandbox;
  const persona = sandbox.persona.url;
  const json = "-H 'Content-Type: application/json'";
  const passed = Object.keys(settings);
  print('ory-persona-idv sandbox: the service with stand-ins for Persona, Kratos and your app. Ctrl-C stops it.');
  print();
  print(`  service           ${service}   X-Webhook-Secret: ${SANDBOX.oryWebhookSecret}`);
  if (kratos && kratosUi) {
    print(`  Kratos stand-in   ${kratos.url} (admin), ${kratos.public.url} (public)`);
    print(`  sign-in pages     ${kratosUi.loginUrl}, ${kratosUi.registrationUrl}   (LOGIN_URL)`);
  } else {
    print(`  Kratos (yours)    admin ${config.kratos.adminUrl}, public ${config.kratos.publicUrl}`);
    if (sandbox.kratosPublicApi === 'unreachable')
      print(
        `  (Kratos's public API does not answer at ${config.kratos.publicUrl} yet: session checks fail until it does; KRATOS_PUBLIC_URL)`,
      );
  }
  print(`  Persona stand-in  ${persona}   API ${sandbox.persona.apiBase}, hosted flow ${persona}/verify`);
  print(`  app stand-in      ${app.url}/   where users return (RETURN_TO_ALLOWLIST), support at ${app.supportUrl}`);
  print(`  Kratos hooks      as in ${sandbox.snippet} (LOGIN_POLICY=${config.login.policy})`);
  print(
    `  your settings     ${passed.length > 0 ? passed.join(', ') : 'none (service variables in the environment pass through)'}`,
  );
  print();
  if (kratos) {
    print(
      `In a browser: open ${app.url}/ and register (use 127.0.0.1, not localhost: the session cookie belongs to that host).`,
    );
    if (config.recovery.enabled)
      print(`Recovery by verification, for someone who lost every factor: ${service}/persona/recover`);
    print();
    print('Try it:');
    print(
      '  # register: Kratos saves the identity and calls /persona/initiate; every step then prints the next, with its ids',
    );
    print(`  curl -s -X POST ${kratos.url}/sandbox/registrations ${json} -d '{"traits":{"email":"jane@example.com"}}'`);
    guide = sandboxGuide(print, { service, kratos: kratos.url, persona });
  } else {
    print(
      `Point your Kratos's hooks (ory-actions.yaml) at ${service} with X-Webhook-Secret ${SANDBOX.oryWebhookSecret}.`,
    );
    print(`Its browser flows may return to ${service} and to ${app.url} (selfservice.allowed_return_urls).`);
  }
  print();
  return () => sandbox.close();
}

/** The port variables a mode uses, for naming the one whose port could not be used. */
const USED_PORTS: Record<'persona' | 'everything', PortVariable[]> = {
  persona: ['SANDBOX_PERSONA_PORT'],
  everything: Object.keys(PORTS) as PortVariable[],
};

await runCommand(COMMAND, async () => {
  const mode = env['SANDBOX_ONLY'] === 'persona' ? 'persona' : 'everything';
  let close: () => Promise<void>;
  try {
    close = mode === 'persona' ? await personaOnly() : await everything();
  } catch (error) {
    const problem = error instanceof ConfigError ? error : listenProblem(error, USED_PORTS[mode]);
    if (problem === undefined) throw error;
    process.stderr.write(`${problem.message}\n`);
    return 1;
  }
  const stop = () => {
    void close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return 0;
});
