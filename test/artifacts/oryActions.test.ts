import { describe, expect, it } from 'vitest';
import { deepMerge, kratosConfigProblems, minimalKratosConfig, readYaml } from '../support/kratosConfig.js';

type Hook = { hook: string; config?: Record<string, unknown> & { response?: Record<string, unknown>; auth?: unknown } };
type Flows = Record<string, { after: Record<string, { hooks: Hook[] }> }>;

const snippet = readYaml(new URL('../../ory-actions.yaml', import.meta.url)) as { selfservice: { flows: Flows } };
const merged = () => deepMerge(minimalKratosConfig(), snippet);
const flows = snippet.selfservice.flows;

const REGISTRATION_METHODS = ['password', 'oidc', 'code', 'webauthn', 'passkey'];
const LOGIN_METHODS = ['password', 'oidc', 'code', 'webauthn', 'passkey', 'totp', 'lookup_secret'];

const personaHooks = (flow: string, method: string) =>
  (flows[flow]?.after[method]?.hooks ?? []).filter((hook) => hook.hook === 'web_hook');

describe('ory-actions.yaml', () => {
  it('validates against Kratos’s configuration schema when merged into a minimal config', () => {
    expect(kratosConfigProblems(merged())).toEqual([]);
  });

  it('is checked by a validator that does catch mistakes', () => {
    const broken = merged() as { selfservice: { flows: Flows } };
    const hook = broken.selfservice.flows['login']?.after['password']?.hooks[0];
    Object.assign(hook?.config?.response ?? {}, { ignore: true });
    expect(kratosConfigProblems(broken)).not.toEqual([]);
  });

  it.each(REGISTRATION_METHODS)('runs initiate after the identity is saved for %s registrations', (method) => {
    const [hook] = personaHooks('registration', method);
    expect(hook?.config).toMatchObject({ url: expect.stringMatching(/\/persona\/initiate$/), method: 'POST' });
    expect(hook?.config?.['body']).toMatch(/^file:\/\/.*initiate\.jsonnet$/);
    expect(hook?.config?.response?.['parse']).toBeUndefined();
    expect(hook?.config?.['can_interrupt']).toBeUndefined();
    expect(hook?.config?.auth).toEqual({
      type: 'api_key',
      config: { name: 'X-Webhook-Secret', value: expect.any(String), in: 'header' },
    });
  });

  it.each([...LOGIN_METHODS.map((method) => ['login', method]), ['recovery', 'flow-wide']])(
    'gates %s (%s) with a parsed validate hook',
    (flow, method) => {
      const hooks =
        method === 'flow-wide' ? (flows[flow]?.after['hooks'] as unknown as Hook[]) : personaHooks(flow, method);
      const [hook] = hooks.filter((candidate) => candidate.hook === 'web_hook');
      expect(hook?.config).toMatchObject({ url: expect.stringMatching(/\/persona\/validate$/), method: 'POST' });
      expect(hook?.config?.['body']).toMatch(/^file:\/\/.*validate\.jsonnet$/);
      expect(hook?.config?.response).toEqual({ parse: true });
      expect(hook?.config?.auth).toMatchObject({ config: { name: 'X-Webhook-Secret', in: 'header' } });
    },
  );
});
