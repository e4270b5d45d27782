import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_WRONG_ATTEMPTS } from '../../src/admin/shortCodes/shortCode.js';
import { admin, auditLines, startAdminHarness } from '../support/admin.js';
import type { Harness } from '../support/harness.js';

/**
 * Issue 16 (review 16): each admin action counts once in admin_actions_total. A short code destroyed
 * by its last wrong try is counted twice: once by the audit (auditLog.ts) and once more by the
 * refusal (codeEntryRoute.ts `refuse`).
 */
let harness: Harness;
afterEach(() => harness.close());

describe('a destroyed short code', () => {
  it('counts once in admin_actions_total, as it is audited once', async () => {
    harness = await startAdminHarness({ HOST: '127.0.0.1' });
    const { id } = harness.kratos.createIdentity();
    const issued = await admin(harness).post(`/admin/identities/${id}/verification-links`, {
      actor: 'agent-7',
      kind: 'short_code',
    });
    const code = issued.body.code as string;
    const wrong = `${code.slice(0, -1)}${code.endsWith('Z') ? 'Y' : 'Z'}`;
    for (let attempt = 1; attempt <= MAX_WRONG_ATTEMPTS; attempt += 1) {
      const response = await request(harness.app)
        .post('/persona/start/code')
        .set('Content-Type', 'application/json')
        .send({ code: wrong });
      expect(response.status).toBe(400);
    }
    const destroyedLines = auditLines(harness).filter((line) => line['outcome'] === 'destroyed');
    expect(destroyedLines).toHaveLength(1);

    const metrics = (await request(harness.app).get('/metrics').expect(200)).text;
    expect(metrics).toContain('admin_actions_total{action="short_code.redeem",outcome="destroyed"} 1\n');
    expect(metrics).toContain(
      `admin_actions_total{action="short_code.redeem",outcome="wrong"} ${MAX_WRONG_ATTEMPTS - 1}\n`,
    );
  });
});
