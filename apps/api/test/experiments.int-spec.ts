import { pickVariant } from '@herald/deliveries';
import { TestApi } from '../../../test/support/api-app';

type Problem = { status: number; errors: { field: string; message: string }[] };
type Forecast = {
  targeted: number;
  variants?: { promoted: string | null; split: { variant: string; weight: number; contacts: number }[] };
};

/**
 * Experiments through the API, without a worker: the step's variants validated field by field,
 * the dry run's forecast split by the very allocation the send uses, the experiments route and
 * manual promotion (the worker's side: test/e2e/experiments.e2e-spec.ts).
 */
describe('experiments API', () => {
  let api: TestApi;
  let tenant: { id: string; key: string };
  let other: { id: string; key: string };
  let account: string;
  const CONTACTS = 300;

  beforeAll(async () => {
    api = await TestApi.start();
    tenant = await api.createTenant('Experiments');
    other = await api.createTenant('Other');
    account = await api.createWebhookAccount(tenant.key);
    const imported = await api.request<{ created: number }>('POST', '/v1/contacts/import', {
      key: tenant.key,
      body: Array.from({ length: CONTACTS }, (_, i) => ({ email: `ab${i}@example.com`, tags: ['ab'] })),
    });
    expect(imported.body.created).toBe(CONTACTS);
  });

  afterAll(() => api?.close());

  const create = (steps: unknown[]) =>
    api.request<{ id: string; steps: unknown[] } & Problem>('POST', '/v1/campaigns', {
      key: tenant.key,
      body: { name: 'AB', kind: 'broadcast', sender_account_id: account, steps, audience: { tags: ['ab'] } },
    });

  it.each([
    [[{ body: 'b', variants: [{ name: 'A', subject: 's' }] }], 'steps[0].variants', /at least two/],
    [
      [
        {
          body: 'b',
          variants: [
            { name: 'A', subject: 's' },
            { name: 'A', body: 't' },
          ],
        },
      ],
      'steps[0].variants[1].name',
      /twice/,
    ],
    [
      [{ body: 'b', variants: [{ name: 'A', subject: 's' }, { name: 'B' }] }],
      'steps[0].variants[1]',
      /at least one/,
    ],
    [
      [
        {
          body: 'b',
          variants: [
            { name: 'A', subject: 's', weight: 0 },
            { name: 'B', subject: 't' },
          ],
        },
      ],
      'steps[0].variants[0].weight',
      /at least 1/,
    ],
    [
      [
        {
          body: 'b',
          variants: [
            { name: 'bad name!', subject: 's' },
            { name: 'B', subject: 't' },
          ],
        },
      ],
      'steps[0].variants[0].name',
      /letters/,
    ],
    [
      [
        {
          body: 'b',
          variants: [
            { name: 'A', subject: '{{ oops' },
            { name: 'B', subject: 't' },
          ],
        },
      ],
      'steps[0].variants[0].subject',
      /./,
    ],
    [[{ body: 'b', experiment: { metric: 'reply' } }], 'steps[0].experiment', /needs variants/],
    [
      [
        {
          body: 'b',
          variants: [
            { name: 'A', subject: 's' },
            { name: 'B', subject: 't' },
          ],
          experiment: { metric: 'opens', confidence: 2 },
        },
      ],
      'steps[0].experiment.metric',
      /reply, click, conversion/,
    ],
  ])('refuses a bad experiment step with a 400 naming the field (%#)', async (steps, field, message) => {
    const res = await create(steps);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
    expect(res.body.errors.find((e) => e.field === field)!.message).toMatch(message);
    expect(
      await api.query(`SELECT 1 FROM campaigns WHERE tenant_id = $1 AND name = 'AB'`, [tenant.id]),
    ).toEqual([]);
  });

  it('stores the variants with their defaults, forecasts their split by the send’s own hash, and promotes by hand', async () => {
    const created = await create([
      {
        subject: 'Base',
        body: 'Hello',
        variants: [
          { name: 'A', subject: 'Subject A' },
          { name: 'B', subject: 'Subject B', weight: 2 },
        ],
      },
    ]);
    expect(created.status).toBe(201);
    expect(created.body.steps[0]).toMatchObject({
      variants: [
        { name: 'A', weight: 1, subject: 'Subject A' },
        { name: 'B', weight: 2, subject: 'Subject B' },
      ],
      experiment: { metric: 'reply', min_sample: 100, confidence: 0.95, auto_promote: false },
    });
    const campaignId = created.body.id;

    const dry = await api.request<{ id: string }>('POST', `/v1/campaigns/${campaignId}/runs`, {
      key: tenant.key,
      body: { dry_run: true },
    });
    const run = await api.request<{ forecast: Forecast }>('GET', `/v1/runs/${dry.body.id}`, {
      key: tenant.key,
    });
    // Exactly what pickVariant gives each contact (the SQL and the TypeScript agree bit for bit).
    const contacts = await api.query<{ id: string }>(`SELECT id FROM contacts WHERE tenant_id = $1`, [
      tenant.id,
    ]);
    const expected: Record<'A' | 'B', number> = { A: 0, B: 0 };
    for (const c of contacts) {
      const picked = pickVariant(
        {
          body: 'Hello',
          variants: [
            { name: 'A', weight: 1, subject: 'x' },
            { name: 'B', weight: 2, subject: 'y' },
          ],
        },
        { contactId: c.id, campaignId, step: 0 },
      );
      expected[picked.variant as 'A' | 'B'] += 1;
    }
    expect(run.body.forecast.variants).toEqual({
      promoted: null,
      split: [
        { variant: 'A', weight: 1, contacts: expected.A },
        { variant: 'B', weight: 2, contacts: expected.B },
      ],
    });
    expect(expected.A + expected.B).toBe(CONTACTS);
    // The recipients page renders each contact's own variant.
    const recipients = await api.request<{
      data: { contact_id: string; subject: string; variant: string }[];
    }>('GET', `/v1/runs/${dry.body.id}/recipients?limit=20`, { key: tenant.key });
    expect(recipients.body.data).toHaveLength(20);
    for (const r of recipients.body.data) expect(r.subject).toBe(`Subject ${r.variant}`);
    expect(new Set(recipients.body.data.map((r) => r.variant))).toEqual(new Set(['A', 'B']));
    // Weight 2 gets about two thirds.
    expect(expected.B / CONTACTS).toBeGreaterThan(0.55);
    expect(expected.B / CONTACTS).toBeLessThan(0.78);

    const listed = await api.request<{
      data: { step: number; variants: { name: string; sent: number }[]; winner: null; pending: string }[];
    }>('GET', `/v1/campaigns/${campaignId}/experiments`, { key: tenant.key });
    expect(listed.status).toBe(200);
    expect(listed.body.data).toEqual([
      expect.objectContaining({
        step: 0,
        winner: null,
        pending: expect.stringMatching(/100 sends/) as unknown,
        variants: [
          expect.objectContaining({ name: 'A', sent: 0 }),
          expect.objectContaining({ name: 'B', sent: 0 }),
        ],
      }),
    ]);

    const promote = (step: string, body: unknown, key = tenant.key) =>
      api.request<Problem & { promoted: { variant: string; by: string } | null }>(
        'POST',
        `/v1/campaigns/${campaignId}/experiments/${step}/promote`,
        { key, body },
      );
    expect((await promote('0', { variant: 'C' })).body.errors[0]!.field).toBe('variant');
    expect((await promote('0', {})).body.errors[0]!.field).toBe('variant');
    expect((await promote('3', { variant: 'A' })).body.errors[0]!.field).toBe('step');
    expect((await promote('x', { variant: 'A' })).status).toBe(404);
    expect((await promote('0', { variant: 'A' }, other.key)).status).toBe(404);
    const promoted = await promote('0', { variant: 'A' });
    expect(promoted.status).toBe(200);
    expect(promoted.body.promoted).toMatchObject({ variant: 'A', by: 'manual' });
    expect((await promote('0', { variant: 'A' })).body.promoted).toMatchObject({ variant: 'A' });

    // Promoted: the forecast sends everyone the promoted variant.
    const again = await api.request<{ id: string }>('POST', `/v1/campaigns/${campaignId}/runs`, {
      key: tenant.key,
      body: { dry_run: true },
    });
    const after = await api.request<{ forecast: Forecast }>('GET', `/v1/runs/${again.body.id}`, {
      key: tenant.key,
    });
    expect(after.body.forecast.variants).toEqual({
      promoted: 'A',
      split: [
        { variant: 'A', weight: 1, contacts: CONTACTS },
        { variant: 'B', weight: 2, contacts: 0 },
      ],
    });
  });

  it('editing a step’s variants restarts its experiment: no promotion, and only sends made since count', async () => {
    const created = await create([
      {
        subject: 'Base',
        body: 'Hello',
        variants: [
          { name: 'A', subject: 'Subject A' },
          { name: 'B', subject: 'Subject B' },
        ],
        experiment: { min_sample: 10 },
      },
    ]);
    const campaignId = created.body.id;
    // 20 sends an hour ago, ten per variant.
    await api.query(
      `INSERT INTO deliveries (tenant_id, id, delivery_key, campaign_id, contact_id, sender_account_id, channel,
                               status, attempts, sent_at, variant, step)
       SELECT $1, uuidv7(), 'restart:' || c.id, $2, c.id, $3, 'webhook', 'sent', 1, now() - interval '1 hour',
              CASE WHEN row_number() OVER (ORDER BY c.id) % 2 = 0 THEN 'A' ELSE 'B' END, 0
         FROM (SELECT id FROM contacts WHERE tenant_id = $1 ORDER BY id LIMIT 20) c`,
      [tenant.id, campaignId, account],
    );
    type Listed = {
      data: { variants: { name: string; sent: number }[]; promoted: { variant: string } | null }[];
    };
    const experiments = async () =>
      (await api.request<Listed>('GET', `/v1/campaigns/${campaignId}/experiments`, { key: tenant.key })).body
        .data[0]!;
    const patch = (body: unknown) =>
      api.request('PATCH', `/v1/campaigns/${campaignId}`, { key: tenant.key, body });
    expect((await experiments()).variants.map((v) => v.sent)).toEqual([10, 10]);
    await api.request('POST', `/v1/campaigns/${campaignId}/experiments/0/promote`, {
      key: tenant.key,
      body: { variant: 'B' },
    });
    // Another field changes: the experiment goes on.
    expect((await patch({ name: 'AB renamed' })).status).toBe(200);
    expect((await experiments()).promoted).toMatchObject({ variant: 'B' });
    // B's subject changes: what was measured as B is gone.
    const steps = [
      {
        subject: 'Base',
        body: 'Hello',
        variants: [
          { name: 'A', subject: 'Subject A' },
          { name: 'B', subject: 'A better B' },
        ],
        experiment: { min_sample: 10 },
      },
    ];
    expect((await patch({ steps })).status).toBe(200);
    const restarted = await experiments();
    expect(restarted.promoted).toBeNull();
    expect(restarted.variants.map((v) => v.sent)).toEqual([0, 0]);
    const [row] = await api.query<{ started_at: Date | null; winner: string | null }>(
      `SELECT started_at, winner FROM campaign_experiments WHERE tenant_id = $1 AND campaign_id = $2 AND step = 0`,
      [tenant.id, campaignId],
    );
    expect(row!.started_at).not.toBeNull();
    // The same steps again change nothing: the experiment is not restarted twice.
    expect((await patch({ steps })).status).toBe(200);
    const [same] = await api.query<{ started_at: Date }>(
      `SELECT started_at FROM campaign_experiments WHERE tenant_id = $1 AND campaign_id = $2 AND step = 0`,
      [tenant.id, campaignId],
    );
    expect(same!.started_at).toEqual(row!.started_at);
  });

  it('a campaign without variants has no experiments and no split; another tenant’s campaign is a 404', async () => {
    const plain = await create([{ subject: 'Hi', body: 'Hello' }]);
    expect(plain.body.steps[0]).not.toHaveProperty('variants');
    const listed = await api.request<{ data: unknown[] }>(
      'GET',
      `/v1/campaigns/${plain.body.id}/experiments`,
      {
        key: tenant.key,
      },
    );
    expect(listed.body).toEqual({ data: [] });
    const dry = await api.request<{ id: string }>('POST', `/v1/campaigns/${plain.body.id}/runs`, {
      key: tenant.key,
      body: { dry_run: true },
    });
    const run = await api.request<{ forecast: Forecast }>('GET', `/v1/runs/${dry.body.id}`, {
      key: tenant.key,
    });
    expect(run.body.forecast).not.toHaveProperty('variants');
    const foreign = await api.request('GET', `/v1/campaigns/${plain.body.id}/experiments`, {
      key: other.key,
    });
    expect(foreign.status).toBe(404);
  });
});
