import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { kratosConfigProblems, readYaml } from '../support/kratosConfig.js';

type Hook = { hook: string; config?: Record<string, any> };
type Service = { environment?: Record<string, string>; volumes?: string[]; command?: string; build?: string };

const compose = readYaml(new URL('../../docker-compose.example.yml', import.meta.url)) as {
  services: Record<string, Service>;
};
const kratosConfig = readYaml(new URL('../../docker/kratos/kratos.yml', import.meta.url)) as Record<string, any>;
const snippet = readYaml(new URL('../../ory-actions.yaml', import.meta.url)) as Record<string, any>;
const service = compose.services['ory-persona-idv'] as Service;
const serviceEnv = service.environment ?? {};
const personaEnv = compose.services['persona']?.environment ?? {};

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
    expect(() => loadConfig(serviceEnv)).not.toThrow();
    expect(service.build).toBe('.');
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
