import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startupSummary } from '../../src/startupSummary.js';

const REQUIRED = {
  ORY_WEBHOOK_SECRET: 'kratos-hook-secret-0123456789',
  KRATOS_ADMIN_URL: 'http://kratos:4434',
  PERSONA_API_KEY: 'persona_sandbox_abc',
  PERSONA_TEMPLATE_ID: 'itmpl_abc123',
  PERSONA_WEBHOOK_SECRET: 'wbhsec_0123456789abcdef',
};

/** Everything optional set so that nothing is off by accident. */
const COMPLETE = {
  ...REQUIRED,
  PUBLIC_BASE_URL: 'https://idv.example.com',
  RETURN_TO_ALLOWLIST: 'https://app.example.com',
  METRICS_TOKEN: 'metrics-token-0123456789abcdef',
};

const summarize = (env: Record<string, string>) => startupSummary(loadConfig(env));
const warnedSettings = (env: Record<string, string>) => summarize(env).warnings.map((warning) => warning.setting);

describe('startupSummary', () => {
  it('with only the required variables: the mode, the policy, what is off and why', () => {
    const summary = summarize(REQUIRED);
    expect(summary).toMatchObject({
      mode: 'single-instance',
      loginPolicy: 'block-declined',
      inquiryType: 'hosted',
      personaEnvironment: 'sandbox',
    });
    expect(summary.features).toMatchObject({
      public_mirror: expect.stringMatching(/^on: /),
      verify_links: 'off: PUBLIC_BASE_URL is unset',
      return_to: 'off: RETURN_TO_ALLOWLIST and DEFAULT_RETURN_TO are unset',
      grace_period: 'off: only with LOGIN_POLICY=require-approved',
      reconcile_schedule: expect.stringMatching(/^off: RECONCILE_INTERVAL is unset/),
      metrics_auth: 'off: METRICS_TOKEN is unset',
      revoke_sessions_on_decline: 'on: ON_DECLINE includes revoke_sessions',
      deactivate_on_decline: 'off: ON_DECLINE leaves out deactivate',
      step_up_template: expect.stringMatching(/^off: PERSONA_STEP_UP_TEMPLATE_ID is unset/),
      recovery_by_verification: 'off: RECOVERY_BY_VERIFICATION is not true',
    });
    expect(
      summarize({
        ...REQUIRED,
        PUBLIC_BASE_URL: 'https://idv.example.com',
        RECOVERY_BY_VERIFICATION: 'true',
        PERSONA_RECOVERY_TEMPLATE_ID: 'itmpl_recovery',
        RECOVERY_REMOVE_SECOND_FACTORS: 'true',
      }).features['recovery_by_verification'],
    ).toBe('on: RECOVERY_BY_VERIFICATION=true: /persona/recover, second factors removed');
    expect(summarize({ ...REQUIRED, DATABASE_URL: 'postgres://db/idv' }).mode).toBe('postgres');
    expect(summarize({ ...REQUIRED, ON_DECLINE: 'none' }).features).toMatchObject({
      revoke_sessions_on_decline: expect.stringMatching(/^off: /),
      deactivate_on_decline: expect.stringMatching(/^off: /),
    });
    expect(warnedSettings(REQUIRED)).toEqual(['RETURN_TO_ALLOWLIST', 'METRICS_TOKEN']);
  });

  it('warns of nothing when every optional setting that matters is there', () => {
    expect(summarize({ ...COMPLETE, LOGIN_POLICY: 'require-approved' }).warnings).toEqual([]);
  });

  it('warns that blocked users get no link under require-approved without PUBLIC_BASE_URL', () => {
    const { PUBLIC_BASE_URL: _unset, ...env } = COMPLETE;
    expect(warnedSettings({ ...env, LOGIN_POLICY: 'require-approved' })).toEqual(['PUBLIC_BASE_URL']);
    expect(warnedSettings(env)).toEqual([]);
  });

  it('says whether pages link to sign-in and support, and warns when signing in cannot lead back', () => {
    expect(summarize(REQUIRED).features).toMatchObject({
      sign_in_link: expect.stringMatching(/^off: LOGIN_URL is unset/),
      support_link: expect.stringMatching(/^off: SUPPORT_URL is unset/),
    });
    const links = { LOGIN_URL: 'https://auth.example.com/login', SUPPORT_URL: 'https://example.com/help' };
    expect(summarize({ ...COMPLETE, ...links }).features).toMatchObject({
      sign_in_link: expect.stringMatching(/^on: /),
      support_link: expect.stringMatching(/^on: /),
    });
    expect(warnedSettings({ ...COMPLETE, ...links })).toEqual([]);
    const { PUBLIC_BASE_URL: _unset, ...env } = COMPLETE;
    expect(summarize({ ...env, ...links }).warnings).toEqual([
      expect.objectContaining({ setting: 'PUBLIC_BASE_URL', message: expect.stringMatching(/LOGIN_URL/) }),
    ]);
  });

  it('says what DEFAULT_RETURN_TO leaves when the allowlist is empty', () => {
    const { RETURN_TO_ALLOWLIST: _unset, ...env } = COMPLETE;
    const [warning] = summarize({ ...env, DEFAULT_RETURN_TO: 'https://app.example.com/home' }).warnings;
    expect(warning?.message).toMatch(/refuses every return_to but DEFAULT_RETURN_TO/);
    expect(summarize({ ...env, DEFAULT_RETURN_TO: 'https://app.example.com/home' }).features['return_to']).toMatch(
      /^on: /,
    );
  });

  it('warns of policy settings that have no effect under block-declined', () => {
    expect(warnedSettings({ ...COMPLETE, LOGIN_GRACE_PERIOD: '24h', REVERIFY_AFTER: '365d' })).toEqual([
      'LOGIN_GRACE_PERIOD',
      'REVERIFY_AFTER',
    ]);
    const strict = summarize({
      ...COMPLETE,
      LOGIN_POLICY: 'require-approved',
      LOGIN_GRACE_PERIOD: '24h',
      REVERIFY_AFTER: '365d',
    });
    expect(strict.warnings).toEqual([]);
    expect(strict.features).toMatchObject({
      grace_period: 'on: LOGIN_GRACE_PERIOD is set',
      reverification: expect.stringMatching(/^on: /),
    });
  });

  it('warns that the compared traits need the profile settings hook, and that review lets mismatches in under block-declined', () => {
    const compared = { ...COMPLETE, ATTRIBUTE_MATCH: 'name-last=name.last,birthdate=birthdate' };
    const [hook] = summarize({ ...compared, LOGIN_POLICY: 'require-approved' }).warnings;
    expect(hook).toEqual({ setting: 'ATTRIBUTE_MATCH', message: expect.stringContaining('(name.last, birthdate)') });
    expect(hook?.message).toContain('persona-settings-profile');
    expect(hook?.message).toContain('cannot see whether Kratos calls it');
    expect(warnedSettings(compared)).toEqual(['ATTRIBUTE_MISMATCH_ACTION', 'ATTRIBUTE_MATCH']);
    expect(warnedSettings({ ...compared, ATTRIBUTE_MISMATCH_ACTION: 'decline' })).toEqual(['ATTRIBUTE_MATCH']);
    expect(warnedSettings(COMPLETE)).toEqual([]);
  });

  it('warns when reconciliation windows leave gaps between runs', () => {
    expect(warnedSettings({ ...COMPLETE, RECONCILE_INTERVAL: '24h', RECONCILE_WINDOW: '12h' })).toEqual([
      'RECONCILE_WINDOW',
    ]);
    expect(warnedSettings({ ...COMPLETE, RECONCILE_INTERVAL: '1h' })).toEqual([]);
  });

  it('says how to turn /metrics on when it is off: no token, no port of its own, a public HOST', () => {
    const { METRICS_TOKEN: _unset, ...env } = COMPLETE;
    expect(summarize(env).warnings).toEqual([
      {
        setting: 'METRICS_TOKEN',
        message:
          '/metrics is off: set METRICS_TOKEN to serve it behind a bearer token, METRICS_PORT to serve it on a private port, or HOST=127.0.0.1',
      },
    ]);
    expect(warnedSettings({ ...env, METRICS_PORT: '9464' })).toEqual([]);
    expect(warnedSettings({ ...env, HOST: '127.0.0.1' })).toEqual([]);
  });

  it('says where the admin API listens and where its audit goes, and warns when it shares PORT', () => {
    expect(summarize(COMPLETE).features['admin_api']).toBe('off: ADMIN_API_TOKEN is unset');
    const token = { ADMIN_API_TOKEN: 'admin-token-0123456789abcdefgh' };
    const onPort = summarize({ ...COMPLETE, ...token });
    expect(onPort.features['admin_api']).toBe(
      'on: ADMIN_API_TOKEN is set: on PORT, behind the token; the audit is the log only (no DATABASE_URL)',
    );
    expect(onPort.warnings.map((warning) => warning.setting)).toEqual(['ADMIN_PORT']);
    const private_ = summarize({
      ...COMPLETE,
      ...token,
      ADMIN_PORT: '3001',
      DATABASE_URL: 'postgres://idv:password@db:5432/idv',
    });
    expect(private_.features['admin_api']).toBe(
      'on: ADMIN_API_TOKEN is set: on ADMIN_PORT only; the audit in the audit_log table and the log',
    );
    expect(private_.warnings).toEqual([]);
    expect(warnedSettings({ ...COMPLETE, ...token, ADMIN_PORT: '3001', PUBLIC_BASE_URL: '' })).toContain(
      'PUBLIC_BASE_URL',
    );
  });

  it('warns that Ory Network refuses admin calls without ORY_API_KEY', () => {
    const network = { ...COMPLETE, KRATOS_ADMIN_URL: 'https://brave-wozniak-abc123.projects.oryapis.com' };
    expect(warnedSettings(network)).toEqual(['ORY_API_KEY']);
    expect(warnedSettings({ ...network, ORY_API_KEY: 'ory_pat_0123456789' })).toEqual([]);
  });

  it('tells the Persona environment from the key prefix, and never carries a secret', () => {
    const env = { ...COMPLETE, PERSONA_API_KEY: 'persona_production_0123456789', ORY_API_KEY: 'ory_pat_0123456789' };
    const summary = summarize(env);
    expect(summary.personaEnvironment).toBe('production');
    const text = JSON.stringify(summary);
    for (const secret of [
      env.PERSONA_API_KEY,
      env.ORY_API_KEY,
      env.ORY_WEBHOOK_SECRET,
      env.PERSONA_WEBHOOK_SECRET,
      env.METRICS_TOKEN,
    ]) {
      expect(text).not.toContain(secret);
    }
  });

  it('says which notification channels are on, and that their outbox is in memory, best effort', () => {
    expect(summarize(REQUIRED).features).toMatchObject({
      notification_webhooks: 'off: NOTIFY_WEBHOOK_URLS is unset',
      slack: 'off: SLACK_WEBHOOK_URL is unset',
      servicenow: 'off: SERVICENOW_INSTANCE_URL is unset',
      email_to_person: 'off: SMTP_URL is unset',
      notification_outbox: 'off: no notification channel is configured',
    });
    const notifying = summarize({
      ...REQUIRED,
      NOTIFY_WEBHOOK_URLS: 'https://a.example/hooks,https://b.example/hooks',
      NOTIFY_WEBHOOK_SECRET: `whsec_${Buffer.from('a-random-32-byte-secret-for-test').toString('base64')}`,
    });
    expect(notifying.features).toMatchObject({
      notification_webhooks: 'on: NOTIFY_WEBHOOK_URLS names 2 receiver(s), signed per Standard Webhooks',
      notification_outbox:
        'memory: best effort; notifications still waiting when the process stops are lost (set DATABASE_URL)',
    });
    const withDatabase = summarize({
      ...REQUIRED,
      SLACK_WEBHOOK_URL: 'https://hooks.slack.example/services/x',
      DATABASE_URL: 'postgres://idv@db:5432/idv',
    });
    expect(withDatabase.features['notification_outbox']).toBe(
      'postgres: written with each change, sent at least once after it commits, by one replica at a time',
    );
  });
});

describe('startupSummary: redaction', () => {
  it('says whether the sweeps run, with what, and warns where a setting does less than it seems', () => {
    expect(summarize(COMPLETE).features['redaction_sweep']).toMatch(/^off: REDACTION_SWEEP_INTERVAL is unset/);
    expect(summarize({ ...COMPLETE, REDACTION_SWEEP_INTERVAL: '6h', PERSONA_RETENTION: '90d' }).features).toMatchObject(
      {
        redaction_sweep: 'on: REDACTION_SWEEP_INTERVAL is set: deleted identities after 1w, retention 90d',
      },
    );
    expect(warnedSettings({ ...COMPLETE, REDACTION_SWEEP_INTERVAL: '6h' })).toEqual(['REDACT_DELETED_AFTER']);
    expect(warnedSettings({ ...COMPLETE, REDACTION_SWEEP_INTERVAL: '6h', DATABASE_URL: 'postgres://db/idv' })).toEqual(
      [],
    );
    expect(warnedSettings({ ...COMPLETE, REDACTION_SWEEP_INTERVAL: '6h', REDACT_DELETED_AFTER: 'off' })).toEqual([]);
    expect(warnedSettings({ ...COMPLETE, PERSONA_RETENTION: '90d' })).toEqual(['PERSONA_RETENTION']);
  });
});
