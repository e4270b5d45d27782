/**
 * Where the service's CPU time goes, from a V8 CPU profile (`node --cpu-prof`): self time grouped
 * by what the code belongs to, as shares of the time the process was not idle.
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const pkg = (names: string) => new RegExp(`node_modules/(${names})/`);

/** Frames with a URL, by where their code lives (first match wins). */
const CATEGORIES: [string, RegExp][] = [
  [
    'logging (pino)',
    pkg(
      'pino|pino-std-serializers|sonic-boom|thread-stream|fast-redact|@pinojs|quick-format-unescaped|atomic-sleep|on-exit-leak-free|safe-stable-stringify',
    ),
  ],
  ['metrics (prom-client)', pkg('prom-client|tdigest|bintrees')],
  ['validation (zod)', pkg('zod')],
  ['body reading (raw-body)', pkg('raw-body|body-parser|iconv-lite|bytes|unpipe')],
  ['Kratos client (@ory/client, axios)', pkg('@ory|axios|follow-redirects|form-data|proxy-from-env')],
  ['framework (express and its helpers)', /node_modules\//],
  ['service code (dist/)', /\/dist\//],
  ['crypto', /^node:internal\/crypto/],
  ['node http, net and streams', /^node:/],
];

/** Native frames have no URL: sorted by name. */
const NATIVE_CATEGORIES: Record<string, string> = {
  '(idle)': 'idle',
  '(garbage collector)': 'garbage collection',
  '(program)': 'V8 and native (program)',
  writeLatin1String: 'socket writes (system calls)',
  writeUtf8String: 'socket writes (system calls)',
  writeBuffer: 'socket writes (system calls)',
  writev: 'socket writes (system calls)',
  parse: 'JSON parse and stringify',
  stringify: 'JSON parse and stringify',
};

export interface ProfileShare {
  category: string;
  ms: number;
  share: number;
}

export function summarizeProfile(profile: CpuProfile): ProfileShare[] {
  const categoryOf = new Map<number, string>();
  for (const { id, callFrame } of profile.nodes) {
    const category =
      callFrame.url === ''
        ? (NATIVE_CATEGORIES[callFrame.functionName] ?? 'other builtins')
        : (CATEGORIES.find(([, pattern]) => pattern.test(callFrame.url))?.[0] ?? 'other');
    categoryOf.set(id, category);
  }
  const totals = new Map<string, number>();
  profile.samples.forEach((nodeId, index) => {
    const category = categoryOf.get(nodeId) ?? 'other';
    totals.set(category, (totals.get(category) ?? 0) + (profile.timeDeltas[index] ?? 0) / 1000);
  });
  totals.delete('idle');
  const busy = [...totals.values()].reduce((sum, ms) => sum + ms, 0);
  return [...totals.entries()]
    .map(([category, ms]) => ({ category, ms, share: busy === 0 ? 0 : ms / busy }))
    .sort((a, b) => b.ms - a.ms);
}
