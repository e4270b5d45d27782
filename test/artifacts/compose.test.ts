import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import {
  applyKratosEnvironment,
  generatedComposeEnv,
  interpolate,
  interpolateAll,
} from '../support/composeEnvironment.js';
import { kratosConfigProblems, readYaml } from '../support/kratosConfig.js';

type Hook = { hook: string; config?: Record<string, any> };
type Service = {
  environment?: Record<string, string>;
  volumes?: string[];
  command?: string;
  build?: string;
  image?: string;
  ports?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
};

const composeFile = new URL('../../docker-compose.example.yml', import.meta.url);
const compose = readYaml(composeFile) as { services: Record<string, Service> };
const shippedKratosConfig = readYaml(new URL('../../docker/kratos/kratos.yml', import.meta.url)) as Record<string, any>;
const snippet = readYaml(new URL('../../ory-actions.yaml', import.meta.url)) as Record<string, any>;
const REPLICAS = ['ory-persona-idv-a', 'ory-persona-idv-b'];
const replicas = REPLICAS.map((name) => compose.services[name] as Service);
const service = replicas[0] as Service;
const proxy = compose.services['ory-persona-idv'] as Service;
const postgresEnv = compose.services['postgres']?.environment ?? {};
const nginxConf = readFileSync(new URL('../../docker/nginx/nginx.conf', import.meta.url), 'utf8');

// What runs after the documented command wrote compose.env: compose fills in its variables, and
// Kratos applies its environment to kratos.yml.
const composeEnv = generatedComposeEnv();
const serviceEnv = interpolateAll(service.environment ?? {}, composeEnv);
const personaEnv = interpolateAll(compose.services['persona']?.environment ?? {}, composeEnv);
const kratosConfig = applyKratosEnvironment(
  shippedKratosConfig,
  interpolateAll(compose.services['kratos']?.environment ?? {}, composeEnv),
) as Record<string, any>;

const webHooks = (flows: Record<string, any>) =>
  Object.entries(flows).flatMap(([flow, settings]) =>
    Object.entries((settings?.after ?? {}) as Record<string, any>).flatMap(([method, list]) =>
      ((Array.isArray(list) ? list : (list?.hooks ?? [])) as Hook[])
        .filter((hook) => hook.hook === 'web_hook')
        .map((hook) => ({ where: `${flow}.${method}`, config: hook.config ?? {} })),
    ),
  );

describe('docker-compose.example.yml', () => {
  it('gives Kratos a configuration its schema accepts', () => {
    expect(kratosConfigProblems(kratosConfig)).toEqual([]);
  });

  it("gives the service an environment it starts with, and it builds the project's image", () => {
    // As the image runs it: NODE_ENV=production (Dockerfile).
    expect(() => loadConfig({ ...serviceEnv, NODE_ENV: 'production' })).not.toThrow();
    expect(service.build).toBe('.');
  });

  it('ships no secret: they come from compose.env, written by the command the file documents', () => {
    const text = readFileSync(composeFile, 'utf8');
    const command = /^# {3}(printf .+ > compose\.env)$/m.exec(text)?.[1];
    expect(command).toContain('openssl rand -hex 32');
    for (const name of Object.keys(composeEnv)) expect(command).toContain(`${name}=`);
    expect(() => interpolate(service.environment?.['ORY_WEBHOOK_SECRET'] ?? '', {})).toThrow(/write compose.env first/);
    // Kratos without its overrides would send the placeholder, which the service refuses.
    const placeholder = shippedKratosConfig['selfservice'].flows.login.after.password.hooks[0].config.auth.config.value;
    expect(() => loadConfig({ ...serviceEnv, ORY_WEBHOOK_SECRET: placeholder })).toThrow(ConfigError);
    for (const ignore of ['../../.gitignore', '../../.dockerignore'])
      expect(readFileSync(new URL(ignore, import.meta.url), 'utf8').split('\n')).toContain('compose.env');
  });

  it('runs two identical replicas coordinated through the Postgres service, behind one address', () => {
    expect(replicas[1]).toEqual(replicas[0]);
    for (const replica of replicas) expect(replica.ports).toBeUndefined();
    const database = loadConfig(serviceEnv).database;
    const url = new URL(database?.url ?? '');
    expect(url.hostname).toBe('postgres');
    expect(decodeURIComponent(url.username)).toBe(postgresEnv['POSTGRES_USER']);
    expect(decodeURIComponent(url.password)).toBe(postgresEnv['POSTGRES_PASSWORD']);
    expect(url.pathname).toBe(`/${postgresEnv['POSTGRES_DB']}`);
    expect(service.depends_on).toMatchObject({ postgres: { condition: 'service_healthy' } });
    expect(serviceEnv['RECONCILE_INTERVAL']).toBeDefined();

    const port = String(loadConfig(serviceEnv).port);
    expect(proxy.image).toMatch(/^nginx:/);
    expect(proxy.ports).toEqual(['3000:3000']);
    expect(proxy.volumes).toContain('./docker/nginx/nginx.conf:/etc/nginx/nginx.conf:ro');
    expect(proxy.depends_on).toEqual(REPLICAS);
    const upstream = /upstream ory_persona_idv \{([^}]*)\}/.exec(nginxConf)?.[1] ?? '';
    expect([...upstream.matchAll(/server ([a-z0-9-]+):(\d+)/g)].map((match) => `${match[1]}:${match[2]}`)).toEqual(
      REPLICAS.map((name) => `${name}:${port}`),
    );
    expect(nginxConf).toMatch(/listen 3000;/);
    expect(nginxConf).toMatch(/proxy_pass http:\/\/ory_persona_idv;/);
  });

  it('wires the service to Kratos and to the Persona stand-in with matching secrets', () => {
    expect(serviceEnv['KRATOS_ADMIN_URL']).toBe('http://kratos:4434');
    expect(serviceEnv['PERSONA_API_BASE']).toBe(`http://persona:${personaEnv['SANDBOX_PERSONA_PORT']}/api/v1`);
    for (const name of ['PERSONA_API_KEY', 'PERSONA_TEMPLATE_ID', 'PERSONA_WEBHOOK_SECRET']) {
      expect(serviceEnv[name], name).toBe(personaEnv[name]);
    }
    expect(personaEnv['PERSONA_WEBHOOK_URL']).toBe('http://ory-persona-idv:3000/persona/callback');
    expect(personaEnv['SANDBOX_ONLY']).toBe('persona');
  });

  it('configures in Kratos the hooks of ory-actions.yaml, pointed at the service with its secret', () => {
    const hooks = webHooks(kratosConfig['selfservice'].flows);
    expect(hooks.map((hook) => hook.where).sort()).toEqual([
      'login.password',
      'recovery.hooks',
      'registration.password',
    ]);
    const reference = new Map(webHooks(snippet['selfservice'].flows).map((hook) => [hook.config['id'], hook.config]));
    for (const { config } of hooks) {
      const expected = reference.get(config['id']);
      expect(Object.keys(config).sort()).toEqual(Object.keys(expected ?? {}).sort());
      expect(config['response']).toEqual(expected?.['response']);
      expect(config['url']).toBe(String(expected?.['url']));
      expect(config['auth'].config.value).toBe(serviceEnv['ORY_WEBHOOK_SECRET']);
    }
  });

  it('mounts the Jsonnet bodies where the hooks read them', () => {
    const mounts = compose.services['kratos']?.volumes ?? [];
    const jsonnetMount = mounts.find((volume) => volume.startsWith('./jsonnet:'));
    const target = jsonnetMount?.split(':')[1];
    for (const { config } of webHooks(kratosConfig['selfservice'].flows)) {
      const body = String(config['body']);
      expect(body.startsWith(`file://${target}/`), body).toBe(true);
      expect(existsSync(new URL(`../../jsonnet/${body.slice(`file://${target}/`.length)}`, import.meta.url))).toBe(
        true,
      );
    }
    expect(mounts).toContain('./docker/kratos:/etc/config/kratos:ro');
  });
});
