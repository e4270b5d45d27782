import { afterEach, describe, expect, it } from 'vitest';
import { startKratosStandIn, type KratosStandIn } from '../../sandbox/kratosStandIn.js';

let kratos: KratosStandIn;
afterEach(() => kratos.close());

const patch = (id: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${kratos.url}/admin/identities/${id}`, {
    method: 'PATCH',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

describe('Kratos stand-in', () => {
  it('creates missing parents on replace and keeps sibling keys', async () => {
    kratos = await startKratosStandIn();
    const identity = kratos.createIdentity({ metadata_public: { plan: 'free' } });
    const response = await patch(identity.id, [
      { op: 'replace', path: '/metadata_admin/persona', value: { status: 'created' } },
      { op: 'replace', path: '/metadata_public/persona', value: { status: 'created' } },
    ]);
    expect(response.status).toBe(200);
    expect(kratos.identity(identity.id)).toMatchObject({
      metadata_admin: { persona: { status: 'created' } },
      metadata_public: { plan: 'free', persona: { status: 'created' } },
    });
  });

  it.each([
    ['a test operation', [{ op: 'test', path: '/metadata_admin', value: null }]],
    ['a move operation', [{ op: 'move', from: '/traits', path: '/metadata_admin/traits' }]],
    ['a copy operation', [{ op: 'copy', from: '/traits', path: '/metadata_admin/traits' }]],
    ['a patch of the id', [{ op: 'replace', path: '/id', value: 'x' }]],
    ['a patch of credentials', [{ op: 'replace', path: '/credentials/oidc', value: {} }]],
    ['removing a missing path', [{ op: 'remove', path: '/metadata_admin/persona' }]],
    ['an unknown member', [{ op: 'add', path: '/verified', value: true }]],
    ['a prototype path', [{ op: 'add', path: '/metadata_admin/__proto__/x', value: 1 }]],
    ['an empty patch', []],
    ['a non-array body', { op: 'add', path: '/metadata_admin', value: {} }],
  ])('answers 400 to %s and changes nothing', async (_name, body) => {
    kratos = await startKratosStandIn();
    const identity = kratos.createIdentity();
    const response = await patch(identity.id, body);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: 400 } });
    expect(kratos.identity(identity.id)).toEqual(identity);
  });

  it('applies a patch wholly or not at all', async () => {
    kratos = await startKratosStandIn();
    const identity = kratos.createIdentity();
    const response = await patch(identity.id, [
      { op: 'add', path: '/metadata_admin/a', value: 1 },
      { op: 'remove', path: '/metadata_admin/b' },
    ]);
    expect(response.status).toBe(400);
    expect(kratos.identity(identity.id)?.metadata_admin).toBeNull();
  });

  it('requires the bearer key when configured, as Ory Network does', async () => {
    kratos = await startKratosStandIn({ apiKey: 'ory_pat_test' });
    const identity = kratos.createIdentity();
    expect((await fetch(`${kratos.url}/admin/identities/${identity.id}`)).status).toBe(401);
    const authorized = await fetch(`${kratos.url}/admin/identities/${identity.id}`, {
      headers: { Authorization: 'Bearer ory_pat_test' },
    });
    expect(authorized.status).toBe(200);
    expect(await authorized.json()).toMatchObject({ id: identity.id, metadata_admin: null });
  });

  it('answers 404 for unknown identities', async () => {
    kratos = await startKratosStandIn();
    expect((await fetch(`${kratos.url}/admin/identities/5e1b3c7a-2f4d-4a9e-b8c6-0d7f1e2a9b34`)).status).toBe(404);
  });

  it('revokes all sessions of an identity, and answers 404 when it has none, as Kratos does', async () => {
    kratos = await startKratosStandIn();
    const identity = kratos.createIdentity();
    const other = kratos.createIdentity();
    const sessions = [kratos.createSession(identity.id), kratos.createSession(identity.id)];
    const kept = kratos.createSession(other.id);
    const whoami = (token: string) =>
      fetch(`${kratos.url}/sessions/whoami`, { headers: { 'X-Session-Token': token } }).then((r) => r.status);
    const revoke = () => fetch(`${kratos.url}/admin/identities/${identity.id}/sessions`, { method: 'DELETE' });

    expect((await revoke()).status).toBe(204);
    for (const session of sessions) expect(await whoami(session.token)).toBe(401);
    expect(await whoami(kept.token)).toBe(200);
    expect((await revoke()).status).toBe(404);
  });

  it('accepts only active and inactive as state, and refuses the sessions of an inactive identity', async () => {
    kratos = await startKratosStandIn();
    const identity = kratos.createIdentity();
    const session = kratos.createSession(identity.id);
    expect((await patch(identity.id, [{ op: 'replace', path: '/state', value: 'banned' }])).status).toBe(400);
    expect(kratos.identity(identity.id)?.state).toBe('active');
    expect((await patch(identity.id, [{ op: 'replace', path: '/state', value: 'inactive' }])).status).toBe(200);
    const whoami = await fetch(`${kratos.url}/sessions/whoami`, { headers: { 'X-Session-Token': session.token } });
    expect(whoami.status).toBe(401);
  });
});
