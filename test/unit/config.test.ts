import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const REQUIRED = {
  ORY_WEBHOOK_SECRET: 'kratos-hook-secret-0123456789',
  KRATOS_ADMIN_URL: 'http://kratos:4434/',
  PERSONA_API_KEY: 'persona_sandbox_abc',
  PERSONA_TEMPLATE_ID: 'itmpl_abc123',
  PERSONA_WEBHOOK_SECRET: 'wbhsec_0123456789abcdef',
};

const problems = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
};

describe('loadConfig', () => {
  it('starts with only the required variables, with documented defaults', () => {
    const config = loadConfig(REQUIRED);
    expect(config).toMatchObject({
      port: 3000,
      logLevel: 'info',
      oryWebhookSecrets: ['kratos-hook-secret-0123456789'],
      kratos: { adminUrl: 'http://kratos:4434', publicUrl: 'http://kratos:4434', apiKey: undefined },
      persona: {
        apiBase: 'https://api.withpersona.com/api/v1',
        version: '2025-12-08',
        templateIds: ['itmpl_abc123'],
        signatureToleranceSeconds: 300,
        prefillFields: [],
      },
      record: { publicMirror: true },
      login: { policy: 'block-declined', gracePeriodMs: undefined },
    });
    expect([...config.record.approvedStatuses]).toEqual(['approved']);
    expect([...config.record.declinedStatuses]).toEqual(['declined']);
  });

  it('lists every problem at once, by name, without the values', () => {
    const found = problems({
      ORY_WEBHOOK_SECRET: 'short',
      KRATOS_ADMIN_URL: 'https://user:hunter2@kratos',
      PERSONA_TEMPLATE_ID: 'my-template',
      PORT: '99999',
      LOGIN_POLICY: 'allow-all',
      LOGIN_GRACE_PERIOD: 'a day',
    });
    expect(found.map((problem) => problem.split(':')[0])).toEqual([
      'PORT',
      'ORY_WEBHOOK_SECRET',
      'KRATOS_ADMIN_URL',
      'PERSONA_API_KEY',
      'PERSONA_TEMPLATE_ID',
      'PERSONA_WEBHOOK_SECRET',
      'LOGIN_POLICY',
      'LOGIN_GRACE_PERIOD',
    ]);
    expect(found.join('\n')).not.toMatch(/short|hunter2|my-template|allow-all|a day/);
    expect(found).toContain('PERSONA_API_KEY: is required');
  });

  it('takes LOGIN_URL and SUPPORT_URL as http(s) addresses only', () => {
    const config = loadConfig({
      ...REQUIRED,
      LOGIN_URL: 'https://auth.example.com/self-service/login/browser',
      SUPPORT_URL: 'https://example.com/help',
    });
    expect(config.start).toMatchObject({
      loginUrl: 'https://auth.example.com/self-service/login/browser',
      supportUrl: 'https://example.com/help',
    });
    expect(problems({ ...REQUIRED, LOGIN_URL: 'javascript:alert(1)', SUPPORT_URL: 'help@example.com' })).toEqual([
      'LOGIN_URL: must be an http(s) URL without credentials',
      'SUPPORT_URL: must be an http(s) URL without credentials',
    ]);
  });

  it('reads comma-separated secrets and templates, trimming stray whitespace', () => {
    const config = loadConfig({
      ...REQUIRED,
      ORY_WEBHOOK_SECRET: ' new-secret-0123456789abc , old-secret-0123456789abc ',
      PERSONA_WEBHOOK_SECRET: 'wbhsec_new0123456789abc,wbhsec_old0123456789abc',
      PERSONA_TEMPLATE_ID: 'itmpl_new, tmpl_legacy',
    });
    expect(config.oryWebhookSecrets).toEqual(['new-secret-0123456789abc', 'old-secret-0123456789abc']);
    expect(config.persona.webhookSecrets).toHaveLength(2);
    expect(config.persona.templateIds).toEqual(['itmpl_new', 'tmpl_legacy']);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ ...REQUIRED, PORT: '', KRATOS_PUBLIC_URL: ' ' }).port).toBe(3000);
  });

  it('parses the optional settings', () => {
    const config = loadConfig({
      ...REQUIRED,
      KRATOS_PUBLIC_URL: 'https://auth.example.com',
      ORY_API_KEY: 'ory_pat_x',
      LOGIN_POLICY: 'require-approved',
      LOGIN_GRACE_PERIOD: '24h',
      PERSONA_PREFILL_FIELDS: 'name-first=name.first, birthdate=dob',
      METADATA_PUBLIC_MIRROR: 'false',
      PERSONA_APPROVED_STATUSES: 'approved,completed',
    });
    expect(config.kratos).toMatchObject({ publicUrl: 'https://auth.example.com', apiKey: 'ory_pat_x' });
    expect(config.login).toMatchObject({ policy: 'require-approved', gracePeriodMs: 86_400_000 });
    expect(config.persona.prefillFields).toEqual([
      { field: 'name-first', traitPath: ['name', 'first'] },
      { field: 'birthdate', traitPath: ['dob'] },
    ]);
    expect(config.record.publicMirror).toBe(false);
    expect([...config.record.approvedStatuses]).toEqual(['approved', 'completed']);
  });

  it('refuses a status that is both approved and declined', () => {
    expect(
      problems({
        ...REQUIRED,
        PERSONA_APPROVED_STATUSES: 'approved,failed',
        PERSONA_DECLINED_STATUSES: 'declined,failed',
      }),
    ).toEqual(['PERSONA_DECLINED_STATUSES: must not share a status with PERSONA_APPROVED_STATUSES']);
  });
});
