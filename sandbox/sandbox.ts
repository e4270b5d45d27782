import { createLogger } from '../src/logger.js';
import { SANDBOX, startSandbox } from './environment.js';
import { startPersonaStandIn } from './personaStandIn.js';
import type { Delivery } from './personaWebhooks.js';

/**
 * `npm run sandbox`: the service and the stand-ins, kept running for curl, a browser or a local
 * Kratos. `SANDBOX_ONLY=persona` runs the Persona stand-in alone (docker-compose.example.yml).
 */

const env = process.env;
const port = (name: string, fallback: number) => Number(env[name] ?? fallback);
const host = env['SANDBOX_HOST'] ?? '127.0.0.1';
const print = (line = '') => process.stdout.write(`${line}\n`);
const printDelivery = (delivery: Delivery) =>
  print(
    `[persona] webhook ${delivery.name} ${delivery.eventId}: attempt ${delivery.attempts} answered ${delivery.lastStatus || 'nothing'} (${delivery.state})`,
  );

async function personaOnly() {
  const required = ['PERSONA_API_KEY', 'PERSONA_TEMPLATE_ID', 'PERSONA_WEBHOOK_SECRET', 'PERSONA_WEBHOOK_URL'];
  const missing = required.filter((name) => !env[name]);
  if (missing.length > 0) throw new Error(`SANDBOX_ONLY=persona needs ${missing.join(', ')}`);
  const persona = await startPersonaStandIn({
    apiKey: env['PERSONA_API_KEY'] as string,
    templateIds: (env['PERSONA_TEMPLATE_ID'] as string).split(','),
    webhook: {
      url: env['PERSONA_WEBHOOK_URL'] as string,
      secrets: (env['PERSONA_WEBHOOK_SECRET'] as string).split(','),
    },
    port: port('SANDBOX_PERSONA_PORT', 4500),
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
  const sandbox = await startSandbox({
    ports: {
      service: port('SANDBOX_SERVICE_PORT', 3000),
      kratos: port('SANDBOX_KRATOS_PORT', 4434),
      kratosPublic: port('SANDBOX_KRATOS_PUBLIC_PORT', 4433),
      persona: port('SANDBOX_PERSONA_PORT', 4500),
    },
    host,
    ...(kratosAdminUrl !== undefined && { kratosAdminUrl }),
    ...(kratosPublicUrl !== undefined && { kratosPublicUrl }),
    logger: createLogger({ level: env['LOG_LEVEL'] ?? 'info', pretty: true }),
    onDelivery: printDelivery,
  });
  const kratosUrl = sandbox.kratos?.url ?? kratosAdminUrl;
  const service = sandbox.serviceUrl;
  const persona = sandbox.persona.url;
  const json = "-H 'Content-Type: application/json'";
  print('ory-persona-idv sandbox: the service with stand-ins for Persona and Kratos. Ctrl-C stops it.');
  print();
  print(`  service           ${service}   X-Webhook-Secret: ${SANDBOX.oryWebhookSecret}`);
  print(
    `  Kratos ${sandbox.kratos ? 'stand-in  ' : '(yours)   '} ${kratosUrl} (admin), ${sandbox.config.kratos.publicUrl} (public)`,
  );
  print(`  Persona stand-in  ${persona}   API ${sandbox.persona.apiBase}, hosted flow ${persona}/verify`);
  print(`  Kratos hooks      as in ${sandbox.snippet} (LOGIN_POLICY=${sandbox.config.login.policy})`);
  print();
  if (sandbox.kratos) {
    print('Try it:');
    print('  # register: Kratos saves the identity and calls /persona/initiate');
    print(`  curl -s -X POST ${kratosUrl}/sandbox/registrations ${json} -d '{"traits":{"email":"jane@example.com"}}'`);
    print('  # send the user to Persona: open the Location in a browser to click through the hosted flow');
    print(`  curl -si ${service}/persona/start -H 'X-Session-Token: <session_token>'`);
    print("  # or decide as Persona's simulate-actions would: approve, decline, review, fail, expire");
    print(`  curl -s -X POST ${persona}/sandbox/inquiries/<inquiry_id>/approve`);
    print('  # log in: Kratos calls /persona/validate and tells what it would do');
    print(`  curl -s -X POST ${kratosUrl}/sandbox/logins ${json} -d '{"identity_id":"<identity_id>"}'`);
    print('  # the record on the identity');
    print(`  curl -s ${kratosUrl}/admin/identities/<identity_id>`);
  } else {
    print(
      `Point your Kratos's hooks (ory-actions.yaml) at ${service} with X-Webhook-Secret ${SANDBOX.oryWebhookSecret}.`,
    );
  }
  print();
  return () => sandbox.close();
}

const close = env['SANDBOX_ONLY'] === 'persona' ? await personaOnly() : await everything();
const stop = () => {
  void close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
