import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, loadDatabaseConfig } from '../../src/config.js';

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

  it("tells Persona's environment from the API key, and takes texts that merely mention a change", () => {
    expect(loadConfig(REQUIRED).persona).toMatchObject({ apiKey: 'persona_sandbox_abc', environment: 'sandbox' });
    const production = loadConfig({ ...REQUIRED, PERSONA_API_KEY: ' persona_production_0a1b2c ' });
    expect(production.persona).toMatchObject({ apiKey: 'persona_production_0a1b2c', environment: 'production' });
    const texts = loadConfig({
      ...REQUIRED,
      LOGIN_MESSAGE_DECLINED: 'Please call us about the exchange meeting... or change medical details.',
    });
    expect(texts.login.messages.declined).toMatch(/^Please call us/);
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
      PERSONA_COMPLETED_IS_FINAL: 'true',
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
        PERSONA_APPROVED_STATUSES: 'approved,cleared',
        PERSONA_DECLINED_STATUSES: 'declined,cleared',
      }),
    ).toEqual(['PERSONA_DECLINED_STATUSES: must not share a status with PERSONA_APPROVED_STATUSES']);
  });

  it('defaults the HTTP limits so slow and idle clients are cut off within seconds', () => {
    expect(loadConfig(REQUIRED).http).toEqual({
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      bodyIdleTimeoutMs: 5_000,
      keepAliveTimeoutMs: 5_000,
      maxConnections: 1_000,
    });
  });

  describe('refuses, naming the variable', () => {
    const SHIPPED = [
      ['the placeholder of ory-actions.yaml', 'ORY_WEBHOOK_SECRET', 'CHANGE-ME-ORY_WEBHOOK_SECRET'],
      ["the compose example's Kratos hook secret", 'ORY_WEBHOOK_SECRET', 'compose-ory-webhook-secret-0123456789'],
      ["the compose example's Persona secret", 'PERSONA_WEBHOOK_SECRET', 'wbhsec_compose_0123456789abcdef'],
      ['a compose variable that was never filled in', 'ORY_WEBHOOK_SECRET', '${ORY_WEBHOOK_SECRET}'],
      ['16 times the same character', 'ORY_WEBHOOK_SECRET', 'a'.repeat(16)],
      ['a short pattern repeated', 'PERSONA_WEBHOOK_SECRET', 'wbhsec_wbhsec_wbhsec_'],
      ['too few different characters', 'METRICS_TOKEN', 'abababababccccccddd'],
      ['an example value as link key', 'LINK_SIGNING_SECRET', 'sandbox-ory-webhook-secret-0123456789'],
      ["the production check's old Kratos hook secret", 'ORY_WEBHOOK_SECRET', 'production-check-secret-0123456789'],
      ["the production check's old Persona secret", 'PERSONA_WEBHOOK_SECRET', 'wbhsec_production_check_0123456789'],
      ["a placeholder behind Persona's prefix", 'PERSONA_WEBHOOK_SECRET', 'wbhsec_xxxxxxxxxxxxxxxxxxxxxxxx'],
      ["one character behind Persona's prefix", 'PERSONA_WEBHOOK_SECRET', 'wbhsec_0000000000000000'],
    ] as const;

    it.each(SHIPPED)('%s', (_name, variable, value) => {
      const found = problems({ ...REQUIRED, [variable]: value });
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(new RegExp(`^${variable}: `));
      expect(found[0]).not.toContain(value);
    });

    it.each([
      ['PERSONA_API_KEY', 'CHANGE-ME'],
      ['PERSONA_API_KEY', 'persona_production_...'],
      ['ORY_API_KEY', 'CHANGE-ME'],
      ['ORY_API_KEY', '<your project API key>'],
    ])('%s=%s, the placeholder of a template', (variable, value) => {
      const found = problems({ ...REQUIRED, [variable]: value });
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(new RegExp(`^${variable}: is a placeholder`));
    });

    it('two secrets that differ in letter case only', () => {
      expect(
        problems({
          ...REQUIRED,
          LINK_SIGNING_SECRET: 'f3a9c1e07b5d2846a1c9e3f5b7d90214',
          METRICS_TOKEN: 'F3A9C1E07B5D2846A1C9E3F5B7D90214',
        }),
      ).toEqual(['METRICS_TOKEN: must not reuse a value of LINK_SIGNING_SECRET: every secret needs its own']);
    });

    it.each([
      ["the ConfigMap's template", 'PERSONA_TEMPLATE_ID', 'itmpl_ReplaceWithYourTemplate'],
      ['a template left as in an example', 'PERSONA_STEP_UP_TEMPLATE_ID', 'itmpl_ChangeMe'],
      ['an unfilled compose variable', 'LOGIN_MESSAGE_DECLINED', '${LOGIN_MESSAGE_DECLINED}'],
      ['a placeholder in a URL', 'SUPPORT_URL', 'https://replace-me.example.com/help'],
      ['a key that is not Persona’s', 'PERSONA_API_KEY', 'sk_live_0123456789abcdef'],
      ['a key without its environment', 'PERSONA_API_KEY', 'persona_0123456789abcdef'],
    ])('any setting holding %s, once', (_name, variable, value) => {
      const found = problems({ ...REQUIRED, [variable]: value });
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(new RegExp(`^${variable}: (holds a placeholder|must be a Persona API key)`));
      expect(found[0]).not.toContain(value);
    });

    it('a placeholder beside other problems: every one at once', () => {
      expect(
        problems({
          ...REQUIRED,
          PERSONA_API_KEY: 'CHANGE-ME',
          ORY_API_KEY: 'CHANGE-ME',
          PERSONA_TEMPLATE_ID: 'itmpl_ReplaceWithYourTemplate',
          LOGIN_POLICY: 'allow-all',
        }),
      ).toEqual([
        'ORY_API_KEY: is a placeholder: use a project API key (ory_pat_...) or remove the variable for self-hosted Kratos',
        "PERSONA_API_KEY: is a placeholder: copy the API key from Persona's dashboard",
        'LOGIN_POLICY: must be one of block-declined, require-approved',
        'PERSONA_TEMPLATE_ID: holds a placeholder copied from an example: set your own value',
      ]);
    });

    it('one value for two different secrets, each pair once', () => {
      const shared = 'f3a9c1e07b5d2846a1c9e3f5b7d90214';
      expect(
        problems({
          ...REQUIRED,
          ORY_WEBHOOK_SECRET: shared,
          PERSONA_WEBHOOK_SECRET: `wbhsec_other0123456789abcdef,${shared}`,
          METRICS_TOKEN: shared,
        }),
      ).toEqual([
        'PERSONA_WEBHOOK_SECRET: must not reuse a value of ORY_WEBHOOK_SECRET: every secret needs its own',
        'METRICS_TOKEN: must not reuse a value of ORY_WEBHOOK_SECRET: every secret needs its own',
        'METRICS_TOKEN: must not reuse a value of PERSONA_WEBHOOK_SECRET: every secret needs its own',
      ]);
    });

    it.each([
      ['SIGNED_LINK_TTL', '5200w'],
      ['LOGIN_GRACE_PERIOD', '5200w'],
      ['REVERIFY_AFTER', '5200w'],
      ['RECONCILE_INTERVAL', '4w'],
      ['RECONCILE_INTERVAL', '1ms'],
      ['RECONCILE_WINDOW', '5200w'],
      // Read again on every run: with RECONCILE_INTERVAL=1m, a year's inquiries every minute.
      ['RECONCILE_WINDOW', '8d'],
      ['PERSONA_WEBHOOK_TOLERANCE_SECONDS', '86400'],
      ['HTTP_REQUEST_TIMEOUT', '30d'],
      ['HTTP_BODY_IDLE_TIMEOUT', '0s'],
      ['HTTP_KEEP_ALIVE_TIMEOUT', '25d'],
      ['HTTP_MAX_CONNECTIONS', '10000000'],
      // Below the 64 places bodies without credentials may hold, the cap could find no idle connection to close.
      ['HTTP_MAX_CONNECTIONS', '127'],
    ])('%s=%s, beyond its bounds', (variable, value) => {
      const found = problems({ ...REQUIRED, [variable]: value });
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(new RegExp(`^${variable}: must be`));
    });

    it('every duration a timer waits within what a timer holds', () => {
      const longest = loadConfig({
        ...REQUIRED,
        RECONCILE_INTERVAL: '7d',
        RECONCILE_WINDOW: '7d',
        HTTP_HEADERS_TIMEOUT: '5m',
        HTTP_REQUEST_TIMEOUT: '10m',
        HTTP_BODY_IDLE_TIMEOUT: '5m',
        HTTP_KEEP_ALIVE_TIMEOUT: '10m',
      });
      const timers = [longest.reconcile.intervalMs as number, ...Object.values(longest.http)];
      for (const ms of timers) expect(ms).toBeLessThanOrEqual(2 ** 31 - 1);
    });

    it('a headers timeout beyond the request timeout', () => {
      expect(problems({ ...REQUIRED, HTTP_HEADERS_TIMEOUT: '1m', HTTP_REQUEST_TIMEOUT: '30s' })).toEqual([
        'HTTP_HEADERS_TIMEOUT: must not be longer than HTTP_REQUEST_TIMEOUT',
      ]);
    });

    it.each(['created', 'pending', 'expired', 'needs_review', 'failed'])(
      'the non-final status %s among the approved ones',
      (status) => {
        expect(problems({ ...REQUIRED, PERSONA_APPROVED_STATUSES: `approved,${status}` })).toEqual([
          `PERSONA_APPROVED_STATUSES: must list final approvals only, not ${status} (an open, failed or declined inquiry is never approved)`,
        ]);
      },
    );

    it('completed among the approved ones without PERSONA_COMPLETED_IS_FINAL, and accepts it with', () => {
      const found = problems({ ...REQUIRED, PERSONA_APPROVED_STATUSES: 'approved,completed' });
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(/^PERSONA_APPROVED_STATUSES: lists completed.*PERSONA_COMPLETED_IS_FINAL=true/);
      const config = loadConfig({
        ...REQUIRED,
        PERSONA_APPROVED_STATUSES: 'approved,completed,verified_later',
        PERSONA_COMPLETED_IS_FINAL: 'true',
      });
      expect([...config.record.approvedStatuses]).toEqual(['approved', 'completed', 'verified_later']);
    });

    it('plain-http addresses that carry a credential in production, on loopback or with a sandbox key only', () => {
      const production = { ...REQUIRED, NODE_ENV: 'production' };
      const plainPersona = { PERSONA_API_BASE: 'http://api.withpersona.com/api/v1' };
      expect(problems({ ...production, ...plainPersona, PERSONA_API_KEY: 'persona_production_abc' })).toEqual([
        'PERSONA_API_BASE: must use https when NODE_ENV=production (plain http only for loopback addresses), unless PERSONA_API_KEY is a sandbox key',
      ]);
      // A key of no known kind is refused on its own; the check on the address waits for a real key.
      expect(problems({ ...production, ...plainPersona, PERSONA_API_KEY: 'a-key-of-no-known-kind' })).toEqual([
        'PERSONA_API_KEY: must be a Persona API key, persona_sandbox_... or persona_production_... (Persona dashboard, API keys)',
      ]);
      // The compose example's Persona stand-in, on another host of its network.
      expect(problems({ ...production, PERSONA_API_BASE: 'http://persona:4500/api/v1' })).toEqual([]);
      expect(problems({ ...production, PERSONA_API_BASE: 'http://127.0.0.1:4500/api/v1' })).toEqual([]);

      const oryNetwork = { ORY_API_KEY: 'ory_pat_0123456789abcdef' };
      expect(
        problems({
          ...production,
          ...oryNetwork,
          KRATOS_ADMIN_URL: 'http://example.projects.oryapis.com',
          KRATOS_PUBLIC_URL: 'http://auth.example.com',
        }),
      ).toEqual([
        'KRATOS_ADMIN_URL: must use https when NODE_ENV=production (plain http only for loopback addresses) while ORY_API_KEY is set',
        'KRATOS_PUBLIC_URL: must use https when NODE_ENV=production (plain http only for loopback addresses) while ORY_API_KEY is set',
      ]);
      expect(
        problems({ ...production, ...oryNetwork, KRATOS_ADMIN_URL: 'https://example.projects.oryapis.com' }),
      ).toEqual([]);
      // Self-hosted Kratos in the same cluster, without a key; and any of it outside production.
      expect(problems(production)).toEqual([]);
      expect(
        problems({ ...REQUIRED, ...oryNetwork, ...plainPersona, PERSONA_API_KEY: 'persona_production_abc' }),
      ).toEqual([]);
    });

    it('every problem at once: the checks across variables run while another variable is refused', () => {
      expect(
        problems({
          ...REQUIRED,
          LOG_LEVEL: 'loud',
          SIGNED_LINK_TTL: '99d',
          PERSONA_APPROVED_STATUSES: 'approved,created',
          NODE_ENV: 'production',
          PUBLIC_BASE_URL: 'http://idv.example.com',
          HTTP_HEADERS_TIMEOUT: '1m',
          HTTP_REQUEST_TIMEOUT: '30s',
        }),
      ).toEqual([
        'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent',
        'SIGNED_LINK_TTL: must be between 1m and 1d',
        'PERSONA_APPROVED_STATUSES: must list final approvals only, not created (an open, failed or declined inquiry is never approved)',
        'PUBLIC_BASE_URL: must use https when NODE_ENV=production (plain http only for loopback addresses)',
        'HTTP_HEADERS_TIMEOUT: must not be longer than HTTP_REQUEST_TIMEOUT',
      ]);
    });

    it('no check across variables judges one refused on its own', () => {
      // Both must change anyway: that they share a value is no news.
      const weak = 'a'.repeat(20);
      expect(problems({ ...REQUIRED, ORY_WEBHOOK_SECRET: weak, METRICS_TOKEN: weak })).toEqual([
        'ORY_WEBHOOK_SECRET: holds a secret with too little variety (a repeated pattern, or fewer than 6 different characters): generate one with `openssl rand -hex 32`',
        'METRICS_TOKEN: holds a secret with too little variety (a repeated pattern, or fewer than 6 different characters): generate one with `openssl rand -hex 32`',
      ]);
    });

    it('plain-http public addresses in production, but not on loopback or outside production', () => {
      const addresses = {
        PUBLIC_BASE_URL: 'http://idv.example.com',
        RETURN_TO_ALLOWLIST: 'https://app.example.com,http://app.example.com',
        DEFAULT_RETURN_TO: 'http://app.example.com/home',
        PERSONA_HOSTED_FLOW_URL: 'http://inquiry.withpersona.com',
      };
      expect(problems({ ...REQUIRED, ...addresses, NODE_ENV: 'production' })).toEqual([
        'PUBLIC_BASE_URL: must use https when NODE_ENV=production (plain http only for loopback addresses)',
        'RETURN_TO_ALLOWLIST: must use https when NODE_ENV=production (plain http only for loopback addresses)',
        'DEFAULT_RETURN_TO: must use https when NODE_ENV=production (plain http only for loopback addresses)',
        'PERSONA_HOSTED_FLOW_URL: must use https when NODE_ENV=production (plain http only for loopback addresses)',
      ]);
      expect(problems({ ...REQUIRED, ...addresses })).toEqual([]);
      expect(
        problems({
          ...REQUIRED,
          NODE_ENV: 'production',
          PUBLIC_BASE_URL: 'http://127.0.0.1:3000',
          RETURN_TO_ALLOWLIST: 'http://localhost:4455,http://[::1]:4455',
          DEFAULT_RETURN_TO: 'https://app.example.com/',
        }),
      ).toEqual([]);
    });
  });

  it('leaves the attribute comparison off unless ATTRIBUTE_MATCH is set, and reads it as PERSONA_PREFILL_FIELDS', () => {
    expect(loadConfig(REQUIRED).record.attributeMatch).toBeUndefined();
    expect(loadConfig({ ...REQUIRED, ATTRIBUTE_MISMATCH_ACTION: 'decline' }).record.attributeMatch).toBeUndefined();
    const config = loadConfig({ ...REQUIRED, ATTRIBUTE_MATCH: 'name-first=name.first, birthdate=dob' });
    expect(config.record.attributeMatch).toEqual({
      attributes: [
        { field: 'name-first', traitPath: ['name', 'first'] },
        { field: 'birthdate', traitPath: ['dob'] },
      ],
      rules: 'relaxed',
      onMismatch: 'review',
    });
    const strict = loadConfig({
      ...REQUIRED,
      ATTRIBUTE_MATCH: 'name-last=name.last',
      ATTRIBUTE_MATCH_RULES: 'duo',
      ATTRIBUTE_MISMATCH_ACTION: 'flag',
    });
    expect(strict.record.attributeMatch).toMatchObject({ rules: 'duo', onMismatch: 'flag' });
  });

  it('takes completed among the approved statuses with every mismatch action but review', () => {
    for (const action of ['decline', 'flag']) {
      const config = loadConfig({
        ...REQUIRED,
        ATTRIBUTE_MATCH: 'birthdate=dob',
        ATTRIBUTE_MISMATCH_ACTION: action,
        PERSONA_APPROVED_STATUSES: 'completed,approved',
        PERSONA_COMPLETED_IS_FINAL: 'true',
      });
      expect(config.record.attributeMatch?.onMismatch).toBe(action);
    }
  });

  it.each([
    [{ ATTRIBUTE_MATCH: 'email-address=email' }, 'ATTRIBUTE_MATCH: must map verified attributes'],
    [{ ATTRIBUTE_MATCH: 'name-first' }, 'ATTRIBUTE_MATCH: must be a comma-separated list of persona-field=trait.path'],
    [{ ATTRIBUTE_MATCH: 'name-first=a,name-first=b' }, 'ATTRIBUTE_MATCH: must name each verified attribute once'],
    [
      { ATTRIBUTE_MATCH: 'birthdate=dob', ATTRIBUTE_MATCH_RULES: 'fuzzy' },
      'ATTRIBUTE_MATCH_RULES: must be one of exact, relaxed, duo',
    ],
    [
      { ATTRIBUTE_MATCH: 'birthdate=dob', ATTRIBUTE_MISMATCH_ACTION: 'ignore' },
      'ATTRIBUTE_MISMATCH_ACTION: must be one of review, decline, flag',
    ],
    [
      { ATTRIBUTE_MATCH: 'birthdate=dob', ATTRIBUTE_MISMATCH_ACTION: 'decline', PERSONA_DECLINED_STATUSES: 'failed' },
      'PERSONA_DECLINED_STATUSES: must include declined while ATTRIBUTE_MISMATCH_ACTION is decline',
    ],
    [
      {
        ATTRIBUTE_MATCH: 'birthdate=dob',
        PERSONA_APPROVED_STATUSES: 'completed,approved',
        PERSONA_COMPLETED_IS_FINAL: 'true',
      },
      'ATTRIBUTE_MISMATCH_ACTION: must not be review (the default) while PERSONA_APPROVED_STATUSES lists completed',
    ],
    [
      {
        ATTRIBUTE_MATCH: 'birthdate=dob',
        ATTRIBUTE_MISMATCH_ACTION: 'review',
        PERSONA_APPROVED_STATUSES: 'completed',
        PERSONA_COMPLETED_IS_FINAL: 'true',
      },
      'ATTRIBUTE_MISMATCH_ACTION: must not be review (the default) while PERSONA_APPROVED_STATUSES lists completed',
    ],
  ])('refuses %j', (env, problem) => {
    const found = problems({ ...REQUIRED, ...env });
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(problem);
  });

  it('reads step-up and recovery settings, with step-up on by default and recovery off', () => {
    expect(loadConfig(REQUIRED)).toMatchObject({
      stepUp: { maxAgeMs: 15 * 60_000, traits: [], templateId: undefined },
      recovery: { enabled: false, templateId: undefined, removeSecondFactors: false, inquiriesPerMinute: 10 },
    });
    const config = loadConfig({
      ...REQUIRED,
      PUBLIC_BASE_URL: 'https://idv.example.com',
      STEP_UP_MAX_AGE: '5m',
      STEP_UP_TRAITS: 'name.last, birthdate',
      PERSONA_STEP_UP_TEMPLATE_ID: 'itmpl_stepup',
      RECOVERY_BY_VERIFICATION: 'true',
      PERSONA_RECOVERY_TEMPLATE_ID: 'itmpl_recovery',
      RECOVERY_REMOVE_SECOND_FACTORS: 'true',
      RECOVERY_INQUIRIES_PER_MINUTE: '30',
    });
    expect(config.stepUp).toMatchObject({
      maxAgeMs: 300_000,
      traits: ['name.last', 'birthdate'],
      templateId: 'itmpl_stepup',
    });
    expect(config.recovery).toEqual({
      enabled: true,
      templateId: 'itmpl_recovery',
      removeSecondFactors: true,
      inquiriesPerMinute: 30,
    });
  });

  it('refuses recovery without its template and public address, and a template with two purposes', () => {
    expect(problems({ ...REQUIRED, RECOVERY_BY_VERIFICATION: 'true' })).toEqual([
      'PERSONA_RECOVERY_TEMPLATE_ID: is required with RECOVERY_BY_VERIFICATION=true',
      'PUBLIC_BASE_URL: is required with RECOVERY_BY_VERIFICATION=true',
    ]);
    expect(
      problems({
        ...REQUIRED,
        PERSONA_STEP_UP_TEMPLATE_ID: 'itmpl_abc123',
        PERSONA_RECOVERY_TEMPLATE_ID: 'itmpl_same',
      }),
    ).toEqual(['PERSONA_STEP_UP_TEMPLATE_ID: must not be one of PERSONA_TEMPLATE_ID']);
    expect(
      problems({ ...REQUIRED, PERSONA_STEP_UP_TEMPLATE_ID: 'itmpl_same', PERSONA_RECOVERY_TEMPLATE_ID: 'itmpl_same' }),
    ).toEqual(['PERSONA_RECOVERY_TEMPLATE_ID: must differ from PERSONA_STEP_UP_TEMPLATE_ID']);
    expect(
      problems({ ...REQUIRED, STEP_UP_MAX_AGE: '30s', STEP_UP_TRAITS: 'name..last' }).map((p) => p.split(':')[0]),
    ).toEqual(['STEP_UP_MAX_AGE', 'STEP_UP_TRAITS']);
    expect(problems({ ...REQUIRED, RECOVERY_INQUIRIES_PER_MINUTE: '0' }).map((p) => p.split(':')[0])).toEqual([
      'RECOVERY_INQUIRIES_PER_MINUTE',
    ]);
  });

  it('refuses recovery on a plain-http public address off this machine: its __Host- cookie needs a secure origin', () => {
    const recovery = { ...REQUIRED, RECOVERY_BY_VERIFICATION: 'true', PERSONA_RECOVERY_TEMPLATE_ID: 'itmpl_recovery' };
    expect(problems({ ...recovery, PUBLIC_BASE_URL: 'http://idv.example.com' })).toEqual([
      'PUBLIC_BASE_URL: must use https with RECOVERY_BY_VERIFICATION=true (plain http only for loopback addresses)',
    ]);
    for (const loopback of ['http://127.0.0.1:3000', 'http://localhost:3000', 'https://idv.example.com']) {
      expect(problems({ ...recovery, PUBLIC_BASE_URL: loopback })).toEqual([]);
    }
  });

  it('runs in single-instance mode without DATABASE_URL, and reads the database settings with it', () => {
    expect(loadConfig(REQUIRED).database).toBeUndefined();
    expect(
      loadConfig({ ...REQUIRED, DATABASE_URL: 'postgresql://idv:pw@db.internal:5432/idv?sslmode=require' }).database,
    ).toEqual({ url: 'postgresql://idv:pw@db.internal:5432/idv?sslmode=require', schema: 'persona_idv', poolSize: 10 });
    expect(
      loadConfig({ ...REQUIRED, DATABASE_URL: 'postgres://db/idv', DATABASE_SCHEMA: 'idv_2', DATABASE_POOL_SIZE: '4' })
        .database,
    ).toEqual({ url: 'postgres://db/idv', schema: 'idv_2', poolSize: 4 });
  });

  it('refuses a database URL of another kind, a shared or reserved schema, and names no password', () => {
    const found = problems({
      ...REQUIRED,
      DATABASE_URL: 'mysql://idv:hunter2@db/idv',
      DATABASE_SCHEMA: 'public',
      DATABASE_POOL_SIZE: '0',
    });
    expect(found.map((problem) => problem.split(':')[0])).toEqual([
      'DATABASE_URL',
      'DATABASE_SCHEMA',
      'DATABASE_POOL_SIZE',
    ]);
    expect(found.join('\n')).not.toContain('hunter2');
    expect(problems({ ...REQUIRED, DATABASE_SCHEMA: 'pg_idv' })).toEqual([
      'DATABASE_SCHEMA: must be a lower-case SQL name such as persona_idv, not starting with pg_',
    ]);
    expect(problems({ ...REQUIRED, DATABASE_SCHEMA: 'Persona-IDV' })).toHaveLength(1);
  });

  it('reads the database settings alone, for the migrate command', () => {
    expect(loadDatabaseConfig({ DATABASE_URL: 'postgres://db/idv' })).toEqual({
      url: 'postgres://db/idv',
      schema: 'persona_idv',
      poolSize: 10,
    });
    expect(loadDatabaseConfig({})).toBeUndefined();
  });
});

const SIGNING = `whsec_${Buffer.from('a-random-32-byte-secret-for-test').toString('base64')}`;

describe('notifications configuration', () => {
  it('is off by default, retrying for 3 days once on', () => {
    const { notifications } = loadConfig(REQUIRED);
    expect(notifications).toEqual({
      webhooks: undefined,
      slack: undefined,
      serviceNow: undefined,
      email: undefined,
      retryForMs: 3 * 86_400_000,
    });
  });

  it('reads every channel, with IT-actionable events by default for Slack and ServiceNow', () => {
    const { notifications } = loadConfig({
      ...REQUIRED,
      NOTIFY_WEBHOOK_URLS: 'https://a.example/hooks, https://b.example/hooks',
      NOTIFY_WEBHOOK_SECRET: SIGNING,
      NOTIFY_EVENTS: 'verification.declined,recovery.completed',
      SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/x',
      SERVICENOW_INSTANCE_URL: 'https://example.service-now.com',
      SERVICENOW_USERNAME: 'idv',
      SERVICENOW_PASSWORD: 'Zq8-p1vW3k_Xr7tL',
      SMTP_URL: 'smtp://mailer:Mx93-lQa0_vB7zTe@mail.example:587',
      EMAIL_FROM: 'Example <idv@example.com>',
      PUBLIC_BASE_URL: 'https://idv.example.com',
      EMAIL_MIN_INTERVAL: '30m',
    });
    expect(notifications.webhooks?.urls).toEqual(['https://a.example/hooks', 'https://b.example/hooks']);
    expect([...(notifications.webhooks?.events ?? [])]).toEqual(['verification.declined', 'recovery.completed']);
    expect([...(notifications.slack?.events ?? [])]).toEqual([
      'verification.declined',
      'verification.needs_review',
      'verification.mismatch',
    ]);
    expect(notifications.serviceNow).toMatchObject({ username: 'idv', password: 'Zq8-p1vW3k_Xr7tL' });
    expect(notifications.email).toEqual({
      smtpUrl: 'smtp://mailer:Mx93-lQa0_vB7zTe@mail.example:587',
      from: 'Example <idv@example.com>',
      minIntervalMs: 1_800_000,
    });
  });

  it('names what a channel lacks', () => {
    expect(
      problems({
        ...REQUIRED,
        NOTIFY_WEBHOOK_URLS: 'https://a.example/hooks',
        SERVICENOW_INSTANCE_URL: 'https://example.service-now.com',
        SMTP_URL: 'smtp://mail.example:25',
      }),
    ).toEqual([
      'NOTIFY_WEBHOOK_SECRET: is required with NOTIFY_WEBHOOK_URLS: it signs them',
      'SERVICENOW_USERNAME: is required with SERVICENOW_INSTANCE_URL: the Table API needs credentials',
      'SERVICENOW_PASSWORD: is required with SERVICENOW_INSTANCE_URL: the Table API needs credentials',
      'EMAIL_FROM: is required with SMTP_URL: emails need a sender',
      'PUBLIC_BASE_URL: is required with SMTP_URL: emails carry links to this service',
    ]);
  });

  it('refuses malformed values by name, never echoing them', () => {
    const found = problems({
      ...REQUIRED,
      NOTIFY_WEBHOOK_URLS: 'ftp://a.example',
      NOTIFY_WEBHOOK_SECRET: 'whsec_dG9vLXNob3J0', // 9 bytes
      NOTIFY_EVENTS: 'verification.declined,user.created',
      NOTIFY_RETRY_FOR: '30d',
      SMTP_URL: 'http://mail.example',
      EMAIL_MIN_INTERVAL: '2d',
    });
    expect(found.map((problem) => problem.split(':')[0])).toEqual([
      'NOTIFY_WEBHOOK_URLS',
      'NOTIFY_WEBHOOK_SECRET',
      'NOTIFY_EVENTS',
      'NOTIFY_RETRY_FOR',
      'SMTP_URL',
      'EMAIL_MIN_INTERVAL',
    ]);
    expect(found.join('\n')).not.toContain('dG9vLXNob3J0');
  });

  it('holds the notification secrets to the secret policy', () => {
    const weak = problems({
      ...REQUIRED,
      SERVICENOW_INSTANCE_URL: 'https://example.service-now.com',
      SERVICENOW_USERNAME: 'idv',
      SERVICENOW_PASSWORD: 'admin',
      SMTP_URL: 'smtp://mailer:password@mail.example:587',
      EMAIL_FROM: 'idv@example.com',
      PUBLIC_BASE_URL: 'https://idv.example.com',
    });
    expect(weak).toEqual([
      expect.stringMatching(/^SERVICENOW_PASSWORD: every secret must be at least 16 characters/),
      expect.stringMatching(/^SMTP_URL: its password must be at least 16 characters/),
    ]);
    const shared = problems({
      ...REQUIRED,
      LINK_SIGNING_SECRET: 'Zq8-p1vW3k_Xr7tL',
      SERVICENOW_INSTANCE_URL: 'https://example.service-now.com',
      SERVICENOW_USERNAME: 'idv',
      SERVICENOW_PASSWORD: 'Zq8-p1vW3k_Xr7tL',
    });
    expect(shared).toEqual([
      'SERVICENOW_PASSWORD: must not reuse a value of LINK_SIGNING_SECRET: every secret needs its own',
    ]);
  });

  it('sends ServiceNow credentials over https only in production', () => {
    const servicenow = {
      SERVICENOW_INSTANCE_URL: 'http://servicenow.internal',
      SERVICENOW_USERNAME: 'idv',
      SERVICENOW_PASSWORD: 'Zq8-p1vW3k_Xr7tL',
    };
    expect(problems({ ...REQUIRED, ...servicenow })).toEqual([]);
    expect(problems({ ...REQUIRED, ...servicenow, NODE_ENV: 'production' })).toContain(
      'SERVICENOW_INSTANCE_URL: must use https when NODE_ENV=production: basic authentication sends the password',
    );
  });
});
