import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { IContainer, IPodSpec } from 'kubernetes-models/v1';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { CronJob } from 'kubernetes-models/batch/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { describe, expect, it } from 'vitest';
import { applyPatch, type Operation } from 'rfc6902';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, ConfigError, loadConfig } from '../../src/config.js';
import { parseDuration } from '../../src/duration.js';
import { isPlaceholder } from '../../src/security/secretPolicy.js';

const DIR = new URL('../../deploy/kubernetes/', import.meta.url);
const SINGLE_INSTANCE = new URL('../../deploy/kubernetes-single-instance/', import.meta.url);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const files = readdirSync(DIR).filter((file) => file.endsWith('.yaml'));
type Manifest = Record<string, unknown> & { file: string };
const read = (file: string) => parse(readFileSync(new URL(file, DIR), 'utf8')) as Record<string, unknown>;

/** Each kind with its model from the Kubernetes API schema; validate() throws on a violation. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  ConfigMap,
  Secret,
  Service,
  Deployment,
  CronJob,
  PodDisruptionBudget,
};
const manifests: Manifest[] = files
  .filter((file) => file !== 'kustomization.yaml')
  .map((file) => ({ ...read(file), file }));
const only = <T>(kind: string) => {
  const found = manifests.filter((manifest) => manifest['kind'] === kind);
  expect(found).toHaveLength(1);
  return found[0] as unknown as T;
};

const configMap = only<ConfigMap>('ConfigMap');
const secret = only<Secret & { file: string }>('Secret');
const deployment = only<Deployment>('Deployment');
const cronJob = only<CronJob>('CronJob');
const workloads: [string, IPodSpec][] = [
  ['Deployment', deployment.spec?.template.spec as IPodSpec],
  ['CronJob', cronJob.spec?.jobTemplate.spec?.template.spec as IPodSpec],
];

/** The variables a container gets: its own env and what envFrom brings from the ConfigMap and Secret. */
function environment(container: IContainer): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) {
      expect(source.configMapRef.name).toBe(configMap.metadata?.name);
      Object.assign(variables, configMap.data);
    }
    if (source.secretRef) {
      expect(source.secretRef.name).toBe(secret.metadata?.name);
      Object.assign(variables, secret.stringData);
    }
  }
  for (const variable of container.env ?? []) variables[variable.name] = variable.value ?? '';
  return variables;
}

/** What the schema itself requires: the problems loadConfig reports for an empty environment. */
const REQUIRED = (() => {
  try {
    loadConfig({});
  } catch (error) {
    if (error instanceof ConfigError) {
      return error.problems
        .filter((problem) => problem.endsWith(': is required'))
        .map((problem) => problem.split(':')[0]);
    }
    throw error;
  }
  return [];
})();

/** What an operator puts in place of each placeholder. */
function filledIn(env: Record<string, string | undefined>): Record<string, string | undefined> {
  const own: Record<string, string> = {
    PERSONA_TEMPLATE_ID: 'itmpl_Q4h8ZkR2mW6nP1sT',
    PERSONA_API_KEY: `persona_production_${randomBytes(24).toString('hex')}`,
    ORY_API_KEY: `ory_pat_${randomBytes(24).toString('hex')}`,
    PERSONA_WEBHOOK_SECRET: `wbhsec_${randomBytes(24).toString('hex')}`,
    DATABASE_URL: `postgres://persona_idv:${randomBytes(24).toString('hex')}@postgres.example:5432/idv`,
  };
  return Object.fromEntries(
    Object.entries(env).map(([name, value]) => [
      name,
      isPlaceholder(value ?? '') ? (own[name] ?? randomBytes(24).toString('hex')) : value,
    ]),
  );
}

/** The Dockerfile's own environment, which every container of the image starts with. */
const IMAGE_ENV = Object.fromEntries(
  [...readFileSync(new URL('Dockerfile', `file://${ROOT}`), 'utf8').matchAll(/^ENV (\w+)=(\S+)$/gm)].map((match) => [
    match[1],
    match[2]?.replace(/^"|"$/g, ''),
  ]),
);

/** What a pod starts with as shipped: the image's environment, the ConfigMap and the Secret template. */
const shipped: Record<string, string | undefined> = { ...IMAGE_ENV, ...configMap.data, ...secret.stringData };

describe('deploy/kubernetes', () => {
  it.each(manifests.map((manifest) => [manifest.file, manifest] as const))(
    '%s is valid against the Kubernetes API schema',
    (_file, { file: _name, ...manifest }: Manifest) => {
      const Model = MODELS[String(manifest['kind'])];
      expect(Model).toBeDefined();
      expect(() => new (Model as new (data: unknown) => { validate(): void })(manifest).validate()).not.toThrow();
    },
  );

  it('kustomization.yaml applies every manifest but the Secret template', () => {
    const { resources } = read('kustomization.yaml') as { resources: string[] };
    expect(resources.sort()).toEqual(
      manifests
        .map((manifest) => manifest.file)
        .filter((file) => file !== secret.file)
        .sort(),
    );
    expect(Object.values(secret.stringData ?? {}).every((value) => value === 'CHANGE-ME')).toBe(true);
  });

  it.each(workloads)(
    'the %s sets only variables the configuration schema has, and every required one',
    (_kind, pod) => {
      expect(REQUIRED.length).toBeGreaterThan(0);
      const [container] = pod.containers;
      const variables = Object.keys(environment(container as IContainer));
      expect(variables.filter((name) => !CONFIG_VARIABLES.includes(name))).toEqual([]);
      expect(REQUIRED.filter((name) => !variables.includes(name as string))).toEqual([]);
    },
  );

  it('as shipped, its placeholders are refused by name', () => {
    const placeholders = Object.keys(shipped).filter((name) => isPlaceholder(shipped[name] ?? ''));
    expect(placeholders).toEqual(expect.arrayContaining(['PERSONA_TEMPLATE_ID', 'PERSONA_API_KEY', 'ORY_API_KEY']));
    const refused = (() => {
      try {
        loadConfig(shipped);
      } catch (error) {
        return (error as ConfigError).problems.map((problem) => problem.split(':')[0]);
      }
    })();
    expect(refused?.sort()).toEqual(placeholders.sort());
  });

  // As the comments in the ConfigMap and the Secret say: self-hosted Kratos without ORY_API_KEY, or
  // Ory Network's project URL for both of Kratos's APIs.
  it.each([
    ['self-hosted Kratos', { ORY_API_KEY: undefined }],
    ['Ory Network', { KRATOS_ADMIN_URL: 'https://example-project.projects.oryapis.com', KRATOS_PUBLIC_URL: undefined }],
  ])(
    'its settings load for %s, with the operator’s own values in place of the placeholders, in the image’s environment',
    (_kratos, choice) => {
      const config = loadConfig({ ...filledIn(shipped), ...choice });
      const ports = deployment.spec?.template.spec?.containers[0]?.ports ?? [];
      expect(ports.find((port) => port.name === 'http')?.containerPort).toBe(config.port);
      expect(ports.find((port) => port.name === 'metrics')?.containerPort).toBe(config.metrics.port);
    },
  );

  it.each(workloads)(
    'the %s runs as the image’s unprivileged user, read-only, with requests and limits',
    (_kind, pod) => {
      expect(readFileSync(new URL('Dockerfile', `file://${ROOT}`), 'utf8')).toMatch(/^USER node$/m);
      // The official Node.js images give their `node` user uid and gid 1000.
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000 });
      expect(pod.automountServiceAccountToken).toBe(false);
      for (const container of pod.containers) {
        expect(container.securityContext).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        expect(container.resources).toMatchObject({
          requests: { cpu: expect.any(String), memory: expect.any(String) },
          limits: { cpu: expect.any(String), memory: expect.any(String) },
        });
        expect(container.image).toBe(deployment.spec?.template.spec?.containers[0]?.image);
      }
    },
  );

  it('the Deployment probes /healthz and /readyz, and survives a rollout and a disruption with a pod to spare', () => {
    const spec = deployment.spec;
    const container = spec?.template.spec?.containers[0];
    const portNames = (container?.ports ?? []).map((port) => port.name);
    expect(container?.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container?.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(portNames).toContain('http');

    expect(spec?.replicas).toBeGreaterThanOrEqual(2);
    expect(spec?.strategy?.rollingUpdate?.maxUnavailable).toBe(0);
    // Several replicas and the reconcile CronJob beside them are safe only in Postgres mode.
    expect(environment(container as IContainer)).toHaveProperty('DATABASE_URL');
    const pdb = only<PodDisruptionBudget>('PodDisruptionBudget');
    expect(pdb.spec?.minAvailable).toBeLessThan(spec?.replicas ?? 0);

    const podLabels = spec?.template.metadata?.labels;
    expect(spec?.selector.matchLabels).toEqual(podLabels);
    expect(pdb.spec?.selector?.matchLabels).toEqual(podLabels);
    const service = only<Service>('Service');
    expect(service.spec?.selector).toEqual(podLabels);
    expect(portNames).toContain(service.spec?.ports?.[0]?.targetPort);
  });

  it('the Deployment pauses before shutdown in a way every Kubernetes version runs, with a sleep the image has', () => {
    const lifecycle = deployment.spec?.template.spec?.containers[0]?.lifecycle;
    // The preStop `sleep` action needs Kubernetes 1.30 or later; exec runs everywhere.
    expect(lifecycle?.preStop).toEqual({ exec: { command: ['sleep', expect.stringMatching(/^\d+$/)] } });
    const pause = Number(lifecycle?.preStop?.exec?.command?.[1]);
    // The pause and the service's own drain (10 s) fit in the grace period.
    expect(pause + 10).toBeLessThan(deployment.spec?.template.spec?.terminationGracePeriodSeconds ?? 0);
    // The official Node.js images on Debian (bookworm-slim and the like) have coreutils' sleep;
    // distroless and scratch images have no shell tools at all.
    const dockerfile = readFileSync(new URL('Dockerfile', `file://${ROOT}`), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:\d+-(bookworm|trixie)(-slim)? AS runtime$/m);
  });

  it('the CronJob runs the compiled reconcile command, one run at a time, with a window it accepts', () => {
    const spec = cronJob.spec;
    const [node, script, ...args] = spec?.jobTemplate.spec?.template.spec?.containers[0]?.command ?? [];
    expect([node, script]).toEqual(['node', 'dist/reconcile.js']);
    // tsconfig.build.json compiles src/ into dist/.
    expect(existsSync(new URL('src/reconcile.ts', `file://${ROOT}`))).toBe(true);
    expect(args[0]).toBe('--since');
    expect(parseDuration(args[1] ?? '')).toBeGreaterThan(3_600_000);
    expect(spec?.concurrencyPolicy).toBe('Forbid');
    expect(configMap.data?.['RECONCILE_INTERVAL']).toBeUndefined();
  });
});

/**
 * What `kubectl apply -k deploy/kubernetes-single-instance/` applies: the base's resources with the
 * overlay's patches, read as kustomize reads the two kinds it uses (JSON 6902 patches of one
 * target, `$patch: delete`). Any other kind fails here, so the overlay cannot outgrow this reading.
 */
function singleInstance(): Manifest[] {
  const overlay = parse(readFileSync(new URL('kustomization.yaml', SINGLE_INSTANCE), 'utf8')) as {
    resources: string[];
    patches: { target?: { kind: string; name: string }; patch: string }[];
  };
  expect(overlay.resources).toEqual(['../kubernetes/']);
  const { resources } = read('kustomization.yaml') as { resources: string[] };
  let result = structuredClone(manifests.filter((manifest) => resources.includes(manifest.file)));
  const named = (kind: unknown, name: unknown) => (manifest: Manifest) =>
    manifest['kind'] === kind && (manifest['metadata'] as { name?: string }).name === name;
  for (const { target, patch } of overlay.patches) {
    const body = parse(patch) as unknown;
    if (target !== undefined) {
      const found = result.filter(named(target.kind, target.name));
      expect(found).toHaveLength(1);
      expect(applyPatch(found[0], body as Operation[])).toEqual((body as Operation[]).map(() => null));
    } else {
      const deletion = body as { $patch: string; kind: string; metadata: { name: string } };
      expect(deletion.$patch).toBe('delete');
      expect(result.filter(named(deletion.kind, deletion.metadata.name))).toHaveLength(1);
      result = result.filter((manifest) => !named(deletion.kind, deletion.metadata.name)(manifest));
    }
  }
  return result;
}

describe('deploy/kubernetes-single-instance (no DATABASE_URL)', () => {
  const applied = singleInstance();
  const of = <T>(kind: string) => applied.find((manifest) => manifest['kind'] === kind) as unknown as T | undefined;

  it.each(applied.map((manifest) => [manifest.file, manifest] as const))(
    '%s, patched, is valid against the Kubernetes API schema',
    (_file, { file: _name, ...manifest }: Manifest) => {
      const Model = MODELS[String(manifest['kind'])] as new (data: unknown) => { validate(): void };
      expect(() => new Model(manifest).validate()).not.toThrow();
    },
  );

  it('runs one replica, stopped before its successor starts, and no second writer beside it', () => {
    expect(applied.map((manifest) => manifest['kind']).sort()).toEqual(['ConfigMap', 'Deployment', 'Service']);
    const spec = of<Deployment>('Deployment')?.spec;
    expect(spec?.replicas).toBe(1);
    expect(spec?.strategy).toEqual({ type: 'Recreate' });
  });

  it('reconciles inside the service, and its settings load without a database', () => {
    const data = of<ConfigMap>('ConfigMap')?.data ?? {};
    // Self-hosted Kratos, as the ConfigMap's addresses are (Ory Network's would need https).
    const { DATABASE_URL: _leftOut, ORY_API_KEY: _selfHosted, ...secrets } = secret.stringData ?? {};
    const config = loadConfig(filledIn({ ...IMAGE_ENV, ...data, ...secrets }));
    expect(config.database).toBeUndefined();
    expect(config.reconcile.intervalMs).toBeDefined();
    expect(config.reconcile.windowMs).toBeGreaterThan(config.reconcile.intervalMs ?? Infinity);
  });
});
