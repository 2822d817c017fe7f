import { randomUUID } from 'node:crypto';
import { LedgerRepository, type DeliveryRef } from '@herald/deliveries';
import { RollupFolder } from '@herald/engagement';
import { TestApi } from '../../../test/support/api-app';

type Row = { variant: string | null; targeted: number; sent: number };
type ByVariant = { totals: { targeted: number; sent: number }; rows: Row[] };

/**
 * `by=variant` as the pipeline leaves the ledger: fan-out inserts deliveries with no variant,
 * render records the one it picked, the send marks them sent — each through the ledger's own
 * statements, so the rollup triggers move `targeted` from the no-variant group to the variant.
 * A group that has nothing left to count is not a row, before and after the fold.
 */
describe('analytics by variant', () => {
  let api: TestApi;
  let ledger: LedgerRepository;
  let tenant: { id: string; key: string };
  let account: string;
  let contacts: string[];

  beforeAll(async () => {
    api = await TestApi.start();
    ledger = api.app.get(LedgerRepository);
    tenant = await api.createTenant('Variants', 'UTC');
    account = await api.createWebhookAccount(tenant.key);
    await api.request('POST', '/v1/contacts/import', {
      key: tenant.key,
      body: Array.from({ length: 6 }, (_, i) => ({ email: `v${i}@example.com` })),
    });
    contacts = (
      await api.request<{ data: { id: string }[] }>('GET', '/v1/contacts?limit=100', { key: tenant.key })
    ).body.data.map((c) => c.id);
  });
  afterAll(() => api?.close());

  const campaign = async (steps: unknown[]) => {
    const res = await api.request<{ id: string }>('POST', '/v1/campaigns', {
      key: tenant.key,
      body: { name: 'AB', kind: 'sequence', sender_account_id: account, steps },
    });
    expect(res.status).toBe(201);
    return res.body.id;
  };
  const variants = [
    { name: 'A', subject: 'Hi' },
    { name: 'B', subject: 'Hello' },
  ];

  /** What fan-out writes: a pending delivery of the step, its variant not chosen yet. */
  const fannedOut = async (campaignId: string, step: number, contactId: string): Promise<DeliveryRef> => {
    const id = randomUUID();
    await api.query(
      `INSERT INTO deliveries (tenant_id, id, delivery_key, campaign_id, contact_id, sender_account_id, channel, step, status)
       VALUES ($1, $2, $3, $4, $5, $6, 'webhook', $7, 'pending')`,
      [tenant.id, id, `k-${id}`, campaignId, contactId, account, step],
    );
    return { tenantId: tenant.id, id };
  };
  /** Claimed and sent through the ledger's statements, as a worker does. */
  const send = async (refs: readonly DeliveryRef[]) => {
    const token = randomUUID();
    const claimed = await ledger.claim(
      refs.map((r) => ({ ...r, resendExpired: false })),
      60_000,
      token,
    );
    expect(claimed.size).toBe(refs.length);
    expect(await ledger.markSent(refs.map((r) => ({ ...r, providerMessageId: `pm-${r.id}` })))).toBe(
      refs.length,
    );
  };
  const byVariant = async (campaignId: string) => {
    const res = await api.request<ByVariant>('GET', `/v1/analytics/campaigns/${campaignId}?by=variant`, {
      key: tenant.key,
    });
    expect(res.status).toBe(200);
    return res.body;
  };
  const rows = (body: ByVariant) => body.rows.map((r) => [r.variant, r.targeted, r.sent]);

  it('shows only the variants of a step with variants once each message has one, folded or not', async () => {
    const id = await campaign([{ body: 'b', variants }]);
    const refs = await Promise.all(contacts.slice(0, 3).map((c) => fannedOut(id, 0, c)));

    // Fanned out, not rendered yet: all targeted, none with a variant — an honest no-variant row.
    expect(rows(await byVariant(id))).toEqual([[null, 3, 0]]);

    await ledger.recordVariants([
      { ...refs[0]!, variant: 'A' },
      { ...refs[1]!, variant: 'B' },
    ]);
    // One still waits for its render: the no-variant row counts only it.
    expect(rows(await byVariant(id))).toEqual([
      ['A', 1, 0],
      ['B', 1, 0],
      [null, 1, 0],
    ]);

    await ledger.recordVariants([{ ...refs[2]!, variant: 'A' }]);
    await send(refs);
    const unfolded = await byVariant(id);
    expect(rows(unfolded)).toEqual([
      ['A', 2, 2],
      ['B', 1, 1],
    ]);
    expect(unfolded.totals).toMatchObject({ targeted: 3, sent: 3 });

    // The fold leaves a zero rollup row under the no-variant key: still not a row.
    await api.app.get(RollupFolder).fold();
    const [leftover] = await api.query<{ targeted: string; sent: string }[]>(
      `SELECT targeted, sent FROM analytics_rollups WHERE tenant_id = $1 AND campaign_id = $2 AND variant IS NULL`,
      [tenant.id, id],
    );
    expect(leftover).toEqual({ targeted: '0', sent: '0' });
    expect(await byVariant(id)).toEqual(unfolded);
  });

  it('keeps the no-variant row of a step without variants next to the variants of another', async () => {
    const id = await campaign([
      { body: 'b', variants },
      { delay: 60, body: 'Again' },
    ]);
    const first = await Promise.all(contacts.slice(0, 2).map((c) => fannedOut(id, 0, c)));
    const second = await Promise.all(contacts.slice(2, 5).map((c) => fannedOut(id, 1, c)));
    await ledger.recordVariants([
      { ...first[0]!, variant: 'A' },
      { ...first[1]!, variant: 'B' },
    ]);
    await send([...first, second[0]!]);

    expect(rows(await byVariant(id))).toEqual([
      ['A', 1, 1],
      ['B', 1, 1],
      [null, 3, 1],
    ]);
    await api.app.get(RollupFolder).fold();
    expect(rows(await byVariant(id))).toEqual([
      ['A', 1, 1],
      ['B', 1, 1],
      [null, 3, 1],
    ]);
  });
});
