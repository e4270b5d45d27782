import { pathToFileURL } from 'node:url';
import { runCommand, type CommandSpec } from '../src/commandLine.js';
import { SANDBOX, startSandbox, type SandboxEnvironment, type SandboxOptions } from './environment.js';
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

export interface DemoOptions {
  write?: (line: string) => void;
  sandbox?: SandboxOptions;
  /** For tests of the demo itself: make a stand-in slow or failing before the first step. */
  prepare?: (sandbox: SandboxEnvironment) => void;
}

export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  // The service's and Persona's clock, which the demo moves forward to let an approval grow old.
  let minutesLater = 0;
  const now = () => Date.now() + minutesLater * 60_000;
  const sandbox = await startSandbox({ now, ...options.sandbox, redelivery: { count: 0 } });
  options.prepare?.(sandbox);
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
    kratos.identity(identityId)?.metadata_admin?.['persona'] as
      | { status?: string; inquiry_id?: string; purposes?: Record<string, { inquiry_id: string; status: string }> }
      | undefined;

  /** A decision taken in the Persona stand-in's hosted flow (what the user and a Workflow do). */
  const decide = async (inquiryId: string, decision: 'approve' | 'decline') => {
    const url = `${persona.url}/sandbox/inquiries/${inquiryId}/${decision}`;
    const response = await fetch(url, { method: 'POST' });
    write(`     user and Persona: POST ${url} <- ${response.status}`);
  };
  const allDelivered = () => persona.deliveries.every((delivery) => delivery.state === 'delivered');

  /**
   * Initiate gives Persona about a second, so that Kratos's registration never waits on it; on a busy
   * machine the stand-in can take longer, and the service records `not_started` and answers Kratos at
   * once, as it must. `/persona/start` then creates the inquiry, as it does for a real user: the demo
   * goes on that way and says so, rather than fail on the machine's load.
   */
  const registered = (identityId: string): 'created' | 'not_started' => {
    const status = record(identityId)?.status;
    if (status === 'not_started') {
      write("     Persona did not answer within the hook's budget: the record says not_started;");
      write('     /persona/start creates the inquiry, as it would when the user gets there');
      return 'not_started';
    }
    expect(status === 'created', 'no inquiry was recorded on the identity');
    write(`     metadata_admin.persona: ${brief(record(identityId))}`);
    return 'created';
  };

  const users: Record<string, string> = {};
  const sessions: Record<string, { token: string; cookie: string }> = {};
  const recovery: { cookie?: string; inquiryId?: string; code?: string; link?: string } = {};
  let stepUpLink = '';

  /** The browser, signed in, follows a link to /persona/start: the service sends it to Persona. */
  const sendToPersona = async (who: string) => {
    sessions[who] ??= kratos.createSession(users[who] as string);
    const response = await fetch(`${sandbox.serviceUrl}/persona/start`, {
      headers: { Cookie: (sessions[who] as { cookie: string }).cookie, Accept: 'text/html' },
      redirect: 'manual',
    });
    const location = response.headers.get('location') ?? '';
    write(`     browser -> service: GET /persona/start (session cookie) <- ${response.status} Location: ${location}`);
    expect(response.status === 303, `start answered ${response.status}`);
    expect(
      location.startsWith(`${persona.hostedFlowUrl}/verify?inquiry-id=`),
      'start did not redirect to the hosted flow',
    );
  };

  /** A settings change in Kratos's settings flow: the method's hook decides before saving. */
  const changePassword = async (who: string) => {
    const result = await kratos.changeSettings((sessions[who] as { token: string }).token, {
      method: 'password',
      settingsPage: `${sandbox.app.url}/settings`,
    });
    expect(result !== undefined, 'the session was not accepted by the settings flow');
    if (result === undefined) throw new StepFailure('no settings result');
    printHook(result.hook, 'settings');
    return result;
  };
  const steps: [string, () => Promise<void>][] = [
    [
      'Jane registers: Kratos calls POST /persona/initiate',
      async () => {
        const result = await kratos.register({ email: 'jane@example.com', name: { first: 'Jane', last: 'Doe' } });
        users['jane'] = result.identityId;
        printHook(result.hook, 'initiate');
        expect(result.hook.status === 200, `initiate answered ${result.hook.status}`);
        registered(result.identityId);
      },
    ],
    ['Jane is sent to Persona: GET /persona/start', () => sendToPersona('jane')],
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
        expect(result.hook.status === 200, `initiate answered ${result.hook.status}`);
        if (registered(result.identityId) === 'not_started') await sendToPersona('john');
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
    [
      'Jane changes her password: Kratos calls POST /persona/settings before saving; her approval is fresh',
      async () => {
        const result = await changePassword('jane');
        expect(result.saved, `the settings gate did not let the change through (${result.hook.status})`);
        write('     Kratos saves the new password');
      },
    ],
    [
      'Twenty minutes later Jane changes it again: the settings gate asks for a step-up',
      async () => {
        minutesLater += 20;
        const result = await changePassword('jane');
        const { reading } = result.hook;
        expect(!result.saved && reading.kind === 'interrupt', `the change was not blocked (${result.hook.status})`);
        if (reading.kind === 'interrupt') {
          expect(reading.id === 4100006, `unexpected message id ${reading.id}`);
          write(`     Kratos shows on the settings form: [${reading.id}] ${reading.text}`);
          stepUpLink = String(reading.context['verify_url']);
          write(`     context.verify_url: ${stepUpLink}`);
        }
      },
    ],
    [
      'Jane follows the link, GET /persona/start?purpose=step_up, and Persona approves her selfie against her account',
      async () => {
        // The link of the block message; the browser's session cookie goes along.
        const response = await fetch(stepUpLink, {
          headers: { Cookie: (sessions['jane'] as { cookie: string }).cookie, Accept: 'text/html' },
          redirect: 'manual',
        });
        const location = response.headers.get('location') ?? '';
        write(
          `     browser -> service: GET ${new URL(stepUpLink).pathname}${new URL(stepUpLink).search} <- ${response.status} Location: ${location}`,
        );
        const inquiryId = new URL(location, persona.url).searchParams.get('inquiry-id') ?? '';
        expect(persona.inquiry(inquiryId)?.templateId === SANDBOX.stepUpTemplateId, 'no step-up inquiry was opened');
        await decide(inquiryId, 'approve');
        await persona.settled();
        const held = record(users['jane'] as string);
        expect(held?.purposes?.['step_up']?.status === 'approved', 'the step-up approval was not recorded');
        expect(held?.inquiry_id !== inquiryId, 'the step-up took the place of the onboarding inquiry');
        write(
          `     metadata_public.persona: ${brief(kratos.identity(users['jane'] as string)?.metadata_public?.['persona'])}`,
        );
      },
    ],
    [
      'Jane changes her password: the step-up is fresh, Kratos saves it',
      async () => {
        const result = await changePassword('jane');
        expect(result.saved, `the settings gate did not let the change through (${result.hook.status})`);
      },
    ],
    [
      'Jane lost every factor: POST /persona/recover with her email sends her to Persona',
      async () => {
        minutesLater += 60;
        const response = await fetch(`${sandbox.serviceUrl}/persona/recover`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Sec-Fetch-Site': 'same-origin' },
          body: new URLSearchParams({ identifier: 'jane@example.com' }),
          redirect: 'manual',
        });
        const location = response.headers.get('location') ?? '';
        recovery.cookie = (response.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
        recovery.inquiryId = new URL(location, persona.url).searchParams.get('inquiry-id') ?? '';
        write(`     browser -> service: POST /persona/recover <- ${response.status} Location: ${location}`);
        expect(
          response.status === 303 && recovery.cookie.startsWith('__Host-persona_recovery='),
          'recovery did not start',
        );
        const other = await fetch(`${sandbox.serviceUrl}/persona/recover`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ identifier: 'nobody@example.com' }),
          redirect: 'manual',
        });
        write(`     (an unknown identifier is answered alike: ${other.status}, Location to Persona, the same cookie)`);
        expect(other.status === 303, `an unknown identifier was answered ${other.status}`);
      },
    ],
    [
      'Persona approves, and Persona sends Jane back: GET /persona/recover/return issues a Kratos recovery code',
      async () => {
        await decide(recovery.inquiryId as string, 'approve');
        const response = await fetch(`${sandbox.serviceUrl}/persona/recover/return`, {
          headers: { Cookie: recovery.cookie as string, Accept: 'application/json' },
        });
        const body = (await response.json()) as { status?: string; recovery_code?: string; recovery_link?: string };
        write(
          `     browser -> service: GET /persona/recover/return <- ${response.status} ${brief({ ...body, recovery_code: '******' })}`,
        );
        expect(body.status === 'code_issued', `no code was issued (${String(body.status)})`);
        recovery.code = body.recovery_code;
        recovery.link = body.recovery_link;
        expect(
          !kratos.sessionActive((sessions['jane'] as { token: string }).token),
          'her old sessions were not revoked',
        );
        write('     her sessions were revoked; the code reaches only this browser');
      },
    ],
    [
      "Jane enters the code in Kratos's recovery form: the login gate runs, she is signed in",
      async () => {
        const flowId = new URL(recovery.link as string).searchParams.get('flow') ?? '';
        const result = await kratos.recover(flowId, recovery.code as string);
        if (result.kind === 'invalid') throw new StepFailure(result.reason);
        printHook(result.hook, 'validate');
        expect(result.kind === 'recovered', 'the recovery hook blocked Jane');
        if (result.kind === 'recovered') sessions['jane'] = result.session;
        const reset = await changePassword('jane');
        expect(reset.saved, 'Jane could not set a new password after recovering');
        write('     Kratos saves her new password: the recovery counted as a fresh verification');
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

const COMMAND: CommandSpec = {
  name: 'demo',
  usage: `usage: demo

Runs the whole flow on this machine against the stand-ins of Persona and Kratos, printing every
HTTP call: registration, verification, logins allowed and blocked, a step-up before a settings
change, recovery by verification. Takes no arguments.

Exit status: 0 when every step behaved as expected; 1 naming the step that did not; 2 for an argument.
`,
  options: {},
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runCommand(COMMAND, () => demoCommand());
}
