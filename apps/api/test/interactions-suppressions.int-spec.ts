import { InteractionsRepository, SuppressionsRepository } from '@herald/contacts';
import { TransactionRunner } from '@herald/persistence';
import { TestApi } from '../../../test/support/api-app';

type Problem = { status: number; errors: { field: string; message: string }[] };
type Interaction = {
  id: string;
  contact_id: string;
  type: string;
  payload: Record<string, unknown>;
  created_at: string;
};
type Suppression = {
  id: string;
  email: string | null;
  contact_id: string | null;
  reason: string;
  note: string | null;
};

describe('interactions and suppressions', () => {
  let api: TestApi;
  let key: string;
  let tenantId: string;
  let contactId: string;

  beforeAll(async () => {
    api = await TestApi.start();
    ({ key, id: tenantId } = await api.createTenant());
    contactId = (
      await api.request<{ id: string }>('POST', '/v1/contacts', { key, body: { email: 'ada@x.io' } })
    ).body.id;
  });
  afterAll(async () => {
    await api.close();
  });

  it('records payloads validated per type and lists them newest first, filtered and paged', async () => {
    const repo = api.app.get(InteractionsRepository);
    const tx = api.app.get(TransactionRunner);
    const other = (
      await api.request<{ id: string }>('POST', '/v1/contacts', { key, body: { email: 'bob@x.io' } })
    ).body.id;
    await tx.run(async (m) => {
      await repo.record(m, tenantId, {
        contactId,
        type: 'delivery_sent',
        payload: {
          delivery_id: contactId,
          campaign_id: contactId,
          channel: 'smtp',
          provider_message_id: '<m1@x>',
        },
      });
      await repo.record(m, tenantId, {
        contactId,
        type: 'bounce',
        payload: { kind: 'hard', reason: 'mailbox full' },
      });
      await repo.record(m, tenantId, {
        contactId: other,
        type: 'reply',
        payload: { subject: 'Re: hi', text: 'thanks' },
      });
    });
    await expect(
      tx.run((m) => repo.record(m, tenantId, { contactId, type: 'bounce', payload: { kind: 'medium' } })),
    ).rejects.toThrow();
    await expect(
      tx.run((m) =>
        repo.record(m, tenantId, {
          contactId,
          type: 'delivery_sent',
          payload: { delivery_id: 'x', extra: true },
        }),
      ),
    ).rejects.toThrow();

    const note = await api.request<Interaction>('POST', '/v1/interactions', {
      key,
      body: { contact_id: contactId, type: 'note', payload: { text: 'Met Ada.' } },
    });
    expect(note.status).toBe(201);
    expect(note.body).toMatchObject({ contact_id: contactId, type: 'note', payload: { text: 'Met Ada.' } });

    const all = await api.request<{ data: Interaction[]; next_cursor: string | null }>(
      'GET',
      '/v1/interactions',
      { key },
    );
    expect(all.body.data.map((i) => i.type)).toEqual(['note', 'reply', 'bounce', 'delivery_sent']);
    const mine = await api.request<{ data: Interaction[] }>(
      'GET',
      `/v1/interactions?contact_id=${contactId}&type=bounce`,
      { key },
    );
    expect(mine.body.data.map((i) => i.payload)).toEqual([{ kind: 'hard', reason: 'mailbox full' }]);
    const pages: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { data: Interaction[]; next_cursor: string | null } } = await api.request(
        'GET',
        `/v1/interactions?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
        { key },
      );
      pages.push(...page.body.data.map((i) => i.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(pages).toEqual(all.body.data.map((i) => i.id));
    const future = await api.request<{ data: Interaction[] }>(
      'GET',
      `/v1/interactions?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
      { key },
    );
    expect(future.body.data).toEqual([]);
    const past = await api.request<{ data: Interaction[] }>(
      'GET',
      `/v1/interactions?to=2000-01-01T00:00:00Z`,
      { key },
    );
    expect(past.body.data).toEqual([]);
  });

  it('refuses notes with bad payloads, other types, and unknown contacts', async () => {
    const cases: [unknown, number][] = [
      [{ contact_id: contactId, type: 'note', payload: { text: '' } }, 400],
      [{ contact_id: contactId, type: 'note', payload: { text: 'x', more: 1 } }, 400],
      [{ contact_id: contactId, type: 'reply', payload: {} }, 400],
      [{ contact_id: contactId, type: 'note' }, 400],
      [{ contact_id: '0190f5e4-6a2b-7c3d-8e4f-5a6b7c8d9e0f', type: 'note', payload: { text: 'x' } }, 404],
    ];
    for (const [body, status] of cases) {
      const res = await api.request<Problem>('POST', '/v1/interactions', { key, body });
      expect({ body, status: res.status }).toEqual({ body, status });
    }
    const res = await api.request<Problem>('POST', '/v1/interactions', {
      key,
      body: { contact_id: contactId, type: 'note', payload: { text: 7 } },
    });
    expect(res.body.errors).toEqual([{ field: 'payload.text', message: 'must be a string' }]);
  });

  it('suppresses an email or a contact (exactly one), idempotently, and checks them', async () => {
    const byEmail = await api.request<Suppression>('POST', '/v1/suppressions', {
      key,
      body: { email: 'Someone@X.io', reason: 'unsubscribe' },
    });
    expect(byEmail.status).toBe(201);
    expect(byEmail.body).toMatchObject({ email: 'someone@x.io', contact_id: null, reason: 'unsubscribe' });
    const again = await api.request<Suppression>('POST', '/v1/suppressions', {
      key,
      body: { email: 'someone@x.io', reason: 'bounce' },
    });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(byEmail.body.id);
    const byContact = await api.request<Suppression>('POST', '/v1/suppressions', {
      key,
      body: { contact_id: contactId, reason: 'manual', note: 'asked by phone' },
    });
    expect(byContact.status).toBe(201);

    for (const body of [
      { reason: 'manual' },
      { email: 'a@x.io', contact_id: contactId, reason: 'manual' },
      { email: 'a@x.io', reason: 'spam' },
    ]) {
      expect((await api.request('POST', '/v1/suppressions', { key, body })).status).toBe(400);
    }
    expect(
      (
        await api.request('POST', '/v1/suppressions', {
          key,
          body: { contact_id: '0190f5e4-6a2b-7c3d-8e4f-5a6b7c8d9e0f', reason: 'manual' },
        })
      ).status,
    ).toBe(404);

    const repo = api.app.get(SuppressionsRepository);
    expect(await repo.isSuppressed(tenantId, { email: 'SOMEONE@x.io' })).toBe(true);
    expect(await repo.isSuppressed(tenantId, { contactId })).toBe(true);
    expect(await repo.isSuppressed(tenantId, { email: 'free@x.io', contactId: null })).toBe(false);

    const list = await api.request<{ data: Suppression[] }>('GET', '/v1/suppressions?reason=unsubscribe', {
      key,
    });
    expect(list.body.data.map((s) => s.id)).toEqual([byEmail.body.id]);
    expect(
      (await api.request<Suppression>('GET', `/v1/suppressions/${byContact.body.id}`, { key })).body.note,
    ).toBe('asked by phone');
    expect((await api.request('DELETE', `/v1/suppressions/${byEmail.body.id}`, { key })).status).toBe(204);
    expect((await api.request('DELETE', `/v1/suppressions/${byEmail.body.id}`, { key })).status).toBe(404);
    expect(await repo.isSuppressed(tenantId, { email: 'someone@x.io' })).toBe(false);
  });
});
