import { describe, expect, it } from 'vitest';
import { SETTINGS_METHODS } from '../../src/policy/stepUpPolicy.js';
import { deepMerge, kratosConfigProblems, minimalKratosConfig, readYaml } from '../support/kratosConfig.js';

type Hook = { hook: string; config?: Record<string, unknown> & { response?: Record<string, unknown>; auth?: unknown } };
type Flows = Record<string, { after: Record<string, { hooks: Hook[] }> }>;

type Snippet = { selfservice: { flows: Flows } };
const read = (file: string) => readYaml(new URL(`../../${file}`, import.meta.url)) as Snippet;

const REGISTRATION_METHODS = ['password', 'oidc', 'code', 'webauthn', 'passkey'];
const LOGIN_METHODS = ['password', 'oidc', 'code', 'webauthn', 'passkey', 'totp', 'lookup_secret'];

/** Every hook of every list of a flow, named by where it sits. */
const hooksOf = (snippet: Snippet, flow: string) =>
  Object.entries(snippet.selfservice.flows[flow]?.after ?? {}).flatMap(([list, value]) =>
    (Array.isArray(value) ? (value as Hook[]) : value.hooks).map((hook) => ({ list, hook })),
  );

describe.each(['ory-actions.yaml', 'ory-actions.require-approved.yaml'])('%s', (file) => {
  const snippet = read(file);
  const merged = () => deepMerge(minimalKratosConfig(), snippet);
  const flows = snippet.selfservice.flows;
  const personaHooks = (flow: string, method: string) =>
    (flows[flow]?.after[method]?.hooks ?? []).filter((hook) => hook.hook === 'web_hook');

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

  /**
   * The list Kratos runs after a registration or login by `method`: the method's own hooks, or the
   * flow-wide ones when it has none (driver/registry_default_registration.go,
   * PostRegistrationPostPersistHooks; driver/registry_default_login.go, PostLoginHooks).
   */
  const hooksKratosRuns = (flow: string, method: string) => {
    const own = flows[flow]?.after[method]?.hooks ?? [];
    return own.length > 0 ? own : ((flows[flow]?.after['hooks'] ?? []) as unknown as Hook[]);
  };

  it.each([
    ['registration', '/persona/initiate', REGISTRATION_METHODS],
    ['login', '/persona/validate', LOGIN_METHODS],
  ])('runs the %s hook once for every method, listed or not, through the flow-wide fallback', (flow, path, methods) => {
    // The fallback holds the hook every listed method has (Kratos's schema allows no `session` there).
    expect(flows[flow]?.after['hooks']).toEqual(personaHooks(flow, 'password'));
    // Methods with their own list, and ones Kratos may add without one (SAML on Ory Network).
    for (const method of [...methods, 'saml', 'a_future_method']) {
      const runs = hooksKratosRuns(flow, method).filter((hook) => String(hook.config?.['url']).endsWith(path));
      expect(runs, method).toHaveLength(1);
    }
  });

  it.each(SETTINGS_METHODS)(
    'gates %s settings changes with a parsed settings hook that names its method, before saving',
    (method) => {
      const [hook, ...others] = personaHooks('settings', method);
      expect(others).toEqual([]);
      expect(hook?.config).toMatchObject({
        url: expect.stringMatching(new RegExp(`/persona/settings\\?method=${method}$`)),
        method: 'POST',
      });
      expect(hook?.config?.['body']).toMatch(/^file:\/\/.*settings\.jsonnet$/);
      // parse: Kratos runs the hook before saving, and only from a method's own list.
      expect(hook?.config?.response).toEqual({ parse: true });
      expect(hook?.config?.auth).toMatchObject({ config: { name: 'X-Webhook-Secret', in: 'header' } });
    },
  );

  it('puts no settings hook in the flow-wide list, where a parsed hook would never run', () => {
    expect(flows['settings']?.after['hooks']).toBeUndefined();
  });
});

describe('ory-actions.require-approved.yaml', () => {
  const withSession = read('ory-actions.yaml');
  const withoutSession = read('ory-actions.require-approved.yaml');

  it('signs nobody in at registration, so an unverified user never holds a session', () => {
    expect(hooksOf(withoutSession, 'registration').filter(({ hook }) => hook.hook === 'session')).toEqual([]);
    expect(hooksOf(withSession, 'registration').some(({ hook }) => hook.hook === 'session')).toBe(true);
  });

  it('is ory-actions.yaml without its session hooks, so the two cannot drift apart', () => {
    const strip = (snippet: Snippet) =>
      JSON.parse(JSON.stringify(snippet), (_key, value: unknown) =>
        Array.isArray(value) ? value.filter((hook: Hook) => hook?.hook !== 'session') : value,
      ) as Snippet;
    expect(withoutSession).toEqual(strip(withSession));
  });
});
