import { pathToFileURL } from 'node:url';
import { startSandbox, type SandboxOptions } from './environment.js';
import type { HookCall } from './kratosHooks.js';
import type { KratosStandIn } from './kratosStandIn.js';
import type { RecordedRequest } from './standInServer.js';

/**
 * `npm run demo`: the whole flow on this machine, against the stand-ins, step by step. Exits 0 when
 * every step behaved as expected, and 1 naming the first step that did not.
 */

export interface DemoResult {
  ok: boolean;
  steps: number;
  failedStep?: string;
  reason?: string;
}

class StepFailure extends Error {}

const expect = (condition: boolean, reason: string) => {
  if (!condition) throw new StepFailure(reason);
};

const brief = (value: unknown) => {
  const text = JSON.stringify(value);
  return text === undefined ? '' : text.length > 160 ? `${text.slice(0, 157)}...` : text;
};

export async function runDemo(
  options: { write?: (line: string) => void; sandbox?: SandboxOptions } = {},
): Promise<DemoResult> {
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const sandbox = await startSandbox({ ...options.sandbox, redelivery: { count: 0 } });
  const kratos = sandbox.kratos as KratosStandIn;
  const { persona } = sandbox;

  write('ory-persona-idv demo: registration, verification and login on this machine, against stand-ins.');
  write(`  service           ${sandbox.serviceUrl}`);
  write(`  Kratos stand-in   ${kratos.adminUrl} (admin), ${kratos.public.url} (public)`);
  write(`  Persona stand-in  ${persona.url}`);

  /** What the service asked of the stand-ins during a step, and what Persona delivered to it. */
  const seen = { kratos: 0, kratosPublic: 0, persona: 0, deliveries: 0 };
  const counts = () => ({
    kratos: kratos.requests.length,
    kratosPublic: kratos.public.requests.length,
    persona: persona.requests.length,
    deliveries: persona.deliveries.length,
  });
  const printTraffic = () => {
    // The demo's own calls to the stand-ins' sandbox shortcuts are not the service's traffic.
    const fromService = (who: string) => (request: RecordedRequest) =>
      request.path.startsWith('/sandbox/') ? [] : [{ who, request }];
    const traffic = [
      ...kratos.requests.slice(seen.kratos).flatMap(fromService('Kratos')),
      ...kratos.public.requests.slice(seen.kratosPublic).flatMap(fromService('Kratos (public)')),
      ...persona.requests.slice(seen.persona).flatMap(fromService('Persona')),
    ].sort((a, b) => a.request.receivedAt - b.request.receivedAt);
    for (const { who, request } of traffic) {
      write(`     service -> ${who}: ${request.method} ${request.path} <- ${request.status}`);
    }
    for (const delivery of persona.deliveries.slice(seen.deliveries)) {
      write(`     Persona -> service: webhook ${delivery.name} (${delivery.eventId}) <- ${delivery.lastStatus}`);
    }
    Object.assign(seen, counts());
  };
  const printHook = (hook: HookCall, template: string) => {
    write(
      `     Kratos renders jsonnet/${template}.jsonnet (${hook.renderedBy === 'jsonnet' ? 'jsonnet' : 'TypeScript equivalent: jsonnet is not installed'})`,
    );
    write(`     Kratos -> service: POST ${hook.url} ${brief(hook.body)} <- ${hook.status} ${brief(hook.responseBody)}`);
  };
  const record = (identityId: string) =>
    kratos.identity(identityId)?.metadata_admin?.['persona'] as { status?: string; inquiry_id?: string } | undefined;

  /** A decision taken in the Persona stand-in's hosted flow (what the user and a Workflow do). */
  const decide = async (inquiryId: string, decision: 'approve' | 'decline') => {
    const url = `${persona.url}/sandbox/inquiries/${inquiryId}/${decision}`;
    const response = await fetch(url, { method: 'POST' });
    write(`     user and Persona: POST ${url} <- ${response.status}`);
  };
  const allDelivered = () => persona.deliveries.every((delivery) => delivery.state === 'delivered');

  const users: Record<string, string> = {};
  const steps: [string, () => Promise<void>][] = [
    [
      'Jane registers: Kratos calls POST /persona/initiate',
      async () => {
        const result = await kratos.register({ email: 'jane@example.com', name: { first: 'Jane', last: 'Doe' } });
        users['jane'] = result.identityId;
        printHook(result.hook, 'initiate');
        expect(result.hook.status === 200, `initiate answered ${result.hook.status}`);
        expect(record(result.identityId)?.status === 'created', 'no inquiry was recorded on the identity');
        write(`     metadata_admin.persona: ${brief(record(result.identityId))}`);
      },
    ],
    [
      'Jane is sent to Persona: GET /persona/start',
      async () => {
        const { cookie } = kratos.createSession(users['jane'] as string);
        const response = await fetch(`${sandbox.serviceUrl}/persona/start`, {
          headers: { Cookie: cookie, Accept: 'text/html' },
          redirect: 'manual',
        });
        const location = response.headers.get('location') ?? '';
        write(
          `     browser -> service: GET /persona/start (session cookie) <- ${response.status} Location: ${location}`,
        );
        expect(response.status === 303, `start answered ${response.status}`);
        expect(
          location.startsWith(`${persona.hostedFlowUrl}/verify?inquiry-id=`),
          'start did not redirect to the hosted flow',
        );
      },
    ],
    [
      'Jane finishes the flow and Persona approves: signed webhooks to POST /persona/callback',
      async () => {
        await decide(record(users['jane'] as string)?.inquiry_id as string, 'approve');
        await persona.settled();
        expect(allDelivered(), 'a Persona webhook was not accepted by POST /persona/callback');
        expect(record(users['jane'] as string)?.status === 'approved', 'the approval was not recorded');
        write(
          `     metadata_public.persona: ${brief(kratos.identity(users['jane'] as string)?.metadata_public?.['persona'])}`,
        );
      },
    ],
    [
      'Jane logs in: Kratos calls POST /persona/validate',
      async () => {
        const result = await kratos.login(users['jane'] as string);
        printHook(result.hook, 'validate');
        expect(result.hook.reading.kind === 'continue', `the login gate did not let Jane in (${result.hook.status})`);
        write('     Kratos issues the session: Jane is signed in');
      },
    ],
    [
      'John registers: Kratos calls POST /persona/initiate',
      async () => {
        const result = await kratos.register({ email: 'john@example.com' });
        users['john'] = result.identityId;
        printHook(result.hook, 'initiate');
        expect(
          result.hook.status === 200 && record(result.identityId)?.status === 'created',
          'no inquiry was recorded',
        );
      },
    ],
    [
      'Persona declines John: signed webhooks to POST /persona/callback',
      async () => {
        await decide(record(users['john'] as string)?.inquiry_id as string, 'decline');
        await persona.settled();
        expect(allDelivered(), 'a Persona webhook was not accepted by POST /persona/callback');
        expect(record(users['john'] as string)?.status === 'declined', 'the decline was not recorded');
      },
    ],
    [
      "John logs in and is blocked: Kratos shows the gate's message",
      async () => {
        const result = await kratos.login(users['john'] as string);
        printHook(result.hook, 'validate');
        const { reading } = result.hook;
        expect(reading.kind === 'interrupt', `the login gate did not block John (${result.hook.status})`);
        if (reading.kind === 'interrupt') {
          expect(reading.id === 4100001, `unexpected message id ${reading.id}`);
          write(`     Kratos shows on the login form: [${reading.id}] ${reading.text}`);
        }
      },
    ],
  ];

  try {
    for (const [index, [name, run]] of steps.entries()) {
      write(`\n${index + 1}. ${name}`);
      Object.assign(seen, counts());
      try {
        await run();
        await persona.settled();
        expect(allDelivered(), 'a Persona webhook was not accepted by POST /persona/callback');
        printTraffic();
      } catch (error) {
        await persona.settled();
        printTraffic();
        const reason = error instanceof Error ? error.message : String(error);
        return { ok: false, steps: index, failedStep: `${index + 1}. ${name}`, reason };
      }
    }
    write(`\nAll ${steps.length} steps behaved as expected.`);
    return { ok: true, steps: steps.length };
  } finally {
    await sandbox.close();
  }
}

/** The command: prints the walk-through, and the failed step on stderr. Returns the exit status. */
export async function demoCommand(
  options: Parameters<typeof runDemo>[0] & { writeError?: (line: string) => void } = {},
): Promise<number> {
  const result = await runDemo(options);
  if (result.ok) return 0;
  const writeError = options.writeError ?? ((line: string) => process.stderr.write(`${line}\n`));
  writeError(`\nDemo failed at step ${result.failedStep}: ${result.reason}`);
  return 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await demoCommand();
}
