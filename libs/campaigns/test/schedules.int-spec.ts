import { CampaignSchedules, schedulerId } from '@herald/campaigns';
import { JobProducer, QUEUES, REDIS } from '@herald/queues';
import type { Redis } from 'ioredis';
import { previousSlot } from '@herald/time';
import { TestApi } from '../../../test/support/api-app';

/** HH:MM in UTC, `minutes` from now (negative: in the past). */
function utcTime(minutes: number): string {
  const at = new Date(Date.now() + minutes * 60_000);
  return `${String(at.getUTCHours()).padStart(2, '0')}:${String(at.getUTCMinutes()).padStart(2, '0')}`;
}

/**
 * Campaign schedules on real Postgres and Redis: the beat's reconciliation into BullMQ job
 * schedulers, the worker's fire (one run per campaign and local day, whatever fires), and the
 * catch-up policy for slots missed while the fleet was down.
 */
describe('campaign schedules', () => {
  let api: TestApi;
  let schedules: CampaignSchedules;
  let tenantId: string;
  let key: string;
  let account: string;

  beforeAll(async () => {
    api = await TestApi.start();
    schedules = api.app.get(CampaignSchedules);
    ({ key, id: tenantId } = await api.createTenant('Schedules'));
    account = (
      await api.request<{ id: string }>('POST', '/v1/sender-accounts', {
        key,
        body: {
          name: 'Hook',
          channel: 'webhook',
          config: { url: 'https://h.example/in', secret: 'x'.repeat(32) },
        },
      })
    ).body.id;
  });
  afterAll(async () => {
    await api?.close();
  });

  const campaign = async (body: Record<string, unknown>) => {
    const res = await api.request<{ id: string }>('POST', '/v1/campaigns', {
      key,
      body: {
        name: 'Scheduled',
        kind: 'broadcast',
        sender_account_id: account,
        steps: [{ body: 'Hi' }],
        ...body,
      },
    });
    expect(res.status).toBe(201);
    return res.body.id;
  };
  const patch = (id: string, body: Record<string, unknown>) =>
    api.request('PATCH', `/v1/campaigns/${id}`, { key, body });
  const schedulers = async () =>
    Object.fromEntries(
      (await api.app.get(JobProducer).queue(QUEUES.runs).getJobSchedulers(0, -1)).map((s) => [
        s.key,
        { pattern: s.pattern, tz: s.tz },
      ]),
    );
  const runsOf = (id: string) =>
    api.query<{ trigger: string; scheduled_for: string; slot_at: Date }>(
      `SELECT trigger, to_char(scheduled_for, 'YYYY-MM-DD') AS scheduled_for, slot_at FROM campaign_runs WHERE campaign_id = $1`,
      [id],
    );

  it('keeps one job scheduler per active scheduled campaign, in the schedule’s zone or the tenant’s', async () => {
    const paris = await campaign({
      schedule: { at: '09:30', days: ['mon', 'fri'], time_zone: 'Europe/Paris' },
    });
    const tenantZone = await campaign({ kind: 'birthday', schedule: { at: '08:05' } });
    const unscheduled = await campaign({});
    await schedules.reconcile();
    const [tenant] = await api.query<{ time_zone: string }>('SELECT time_zone FROM tenants WHERE id = $1', [
      tenantId,
    ]);
    expect(await schedulers()).toMatchObject({
      [schedulerId(paris)]: { pattern: '30 9 * * 1,5', tz: 'Europe/Paris' },
      [schedulerId(tenantZone)]: { pattern: '5 8 * * *', tz: tenant!.time_zone },
    });
    expect(Object.keys(await schedulers())).not.toContain(schedulerId(unscheduled));
    // Idempotent: nothing changes on a second pass.
    expect(await schedules.reconcile()).toBe(0);
    // A scheduler whose next fire is long past and has no job (BullMQ could not plan it) is
    // stuck: upserted again.
    const runsQueue = api.app.get(JobProducer).queue(QUEUES.runs);
    const [planned] = (await runsQueue.getJobSchedulers(0, -1)).filter(
      (s) => s.key === schedulerId(tenantZone),
    );
    const redis = api.app.get<Redis>(REDIS);
    const plannedJob = `repeat:${schedulerId(tenantZone)}:${planned!.next}`;
    await redis.zrem(runsQueue.toKey('delayed'), plannedJob);
    await redis.del(runsQueue.toKey(plannedJob));
    await redis.zadd(runsQueue.toKey('repeat'), Date.now() - 3_600_000, schedulerId(tenantZone));
    expect(await schedules.reconcile()).toBe(1);
    const [again] = (await runsQueue.getJobSchedulers(0, -1)).filter(
      (s) => s.key === schedulerId(tenantZone),
    );
    expect(again?.next).toBeGreaterThan(Date.now());

    // A changed schedule is upserted; pausing, unscheduling or archiving removes it.
    await patch(paris, { schedule: { at: '10:00', time_zone: 'America/New_York' } });
    await schedules.reconcile();
    expect((await schedulers())[schedulerId(paris)]).toEqual({
      pattern: '0 10 * * *',
      tz: 'America/New_York',
    });
    await patch(paris, { status: 'paused' });
    await patch(tenantZone, { schedule: null });
    await schedules.reconcile();
    expect(Object.keys(await schedulers())).not.toContain(schedulerId(paris));
    expect(Object.keys(await schedulers())).not.toContain(schedulerId(tenantZone));
    await patch(paris, { status: 'active' });
    await schedules.reconcile();
    expect(Object.keys(await schedulers())).toContain(schedulerId(paris));
    expect((await api.request('DELETE', `/v1/campaigns/${paris}`, { key })).status).toBe(204);
    await schedules.reconcile();
    expect(Object.keys(await schedulers())).not.toContain(schedulerId(paris));
  });

  it('starts one run per local day for a slot, however many times it fires', async () => {
    const schedule = { at: utcTime(-1), time_zone: 'Asia/Tokyo' };
    const id = await campaign({ schedule });
    const slot = previousSlot({ at: schedule.at, timeZone: 'Asia/Tokyo' }, Date.now()).getTime();
    const fires = await Promise.all([1, 2, 3].map(() => schedules.fire(tenantId, id, slot)));
    expect(fires.map((f) => f.outcome).sort()).toEqual(['duplicate', 'duplicate', 'fired']);
    const runs = await runsOf(id);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ trigger: 'schedule', slot_at: new Date(slot) });
    // The run's day is the slot's local day in Tokyo, not the server's or UTC's.
    expect(runs[0]!.scheduled_for).toBe(
      new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Tokyo' }).format(new Date(slot)),
    );
    // Its fan-out job went through the outbox.
    const outbox = await api.query<{ dispatched_at: Date | null }>(
      `SELECT o.dispatched_at FROM outbox o JOIN campaign_runs r ON o.job_id = r.id::text WHERE r.campaign_id = $1`,
      [id],
    );
    expect(outbox).toEqual([{ dispatched_at: expect.any(Date) as Date }]);
  });

  it('ignores fires for paused campaigns and for slots of a schedule since changed', async () => {
    const id = await campaign({ schedule: { at: '07:00', time_zone: 'UTC' } });
    const slot = previousSlot({ at: '07:00', timeZone: 'UTC' }, Date.now()).getTime();
    expect((await schedules.fire(tenantId, id, slot - 60_000)).outcome).toBe('stale');
    await patch(id, { status: 'paused' });
    expect((await schedules.fire(tenantId, id, slot)).outcome).toBe('inactive');
    expect(await runsOf(id)).toEqual([]);
  });

  it('runs a late slot once with catch_up fire_once, and lets it pass with skip', async () => {
    // Slots two hours ago: later than SCHEDULE_LATE_AFTER_MS (an hour by default).
    const at = utcTime(-120);
    const slot = previousSlot({ at, timeZone: 'UTC' }, Date.now()).getTime();
    const once = await campaign({ schedule: { at, time_zone: 'UTC' } });
    const skip = await campaign({ schedule: { at, time_zone: 'UTC' }, catch_up: 'skip' });
    expect((await schedules.fire(tenantId, once, slot)).outcome).toBe('fired');
    expect((await schedules.fire(tenantId, skip, slot)).outcome).toBe('skipped_late');
    expect(await runsOf(once)).toHaveLength(1);
    expect(await runsOf(skip)).toEqual([]);
    // After days down, only the latest missed slot runs: yesterday's is superseded by today's.
    const older = await campaign({ schedule: { at, time_zone: 'UTC' } });
    expect((await schedules.fire(tenantId, older, slot - 86_400_000)).outcome).toBe('superseded');
    expect(await runsOf(older)).toEqual([]);
  });

  it('fires a slot missed while no scheduler existed (Redis data lost, beat down), once', async () => {
    const at = utcTime(-5);
    const id = await campaign({ schedule: { at, time_zone: 'UTC' } });
    const fresh = await campaign({ schedule: { at, time_zone: 'UTC' } });
    // Scheduled since yesterday: today's slot five minutes ago should have its run, and has none.
    await api.query(`UPDATE campaigns SET updated_at = now() - interval '1 day' WHERE id = $1`, [id]);
    const queue = api.app.get(JobProducer).queue(QUEUES.runs);
    await schedules.reconcile();
    await schedules.reconcile();
    const slot = previousSlot({ at, timeZone: 'UTC' }, Date.now()).getTime();
    const catchUp = await queue.getJob(`fire-${id}-${slot}`);
    expect(catchUp?.data).toMatchObject({
      payload: { tenant_id: tenantId, campaign_id: id, slot: new Date(slot).toISOString() },
    });
    // A campaign scheduled after its slot has not missed it.
    expect(await queue.getJob(`fire-${fresh}-${slot}`)).toBeUndefined();
    const waiting = (await queue.getJobs(['waiting', 'prioritized'])).filter(
      (j) => j.name === 'campaigns.fire' && j.id?.startsWith(`fire-${id}`),
    );
    expect(waiting).toHaveLength(1);
  });

  it('refuses a schedule on a sequence', async () => {
    const res = await api.request<{ errors: { field: string }[] }>('POST', '/v1/campaigns', {
      key,
      body: {
        name: 'Seq',
        kind: 'sequence',
        sender_account_id: account,
        steps: [{ body: 'Hi' }],
        schedule: { at: '09:00' },
      },
    });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e) => e.field)).toEqual(['schedule']);
  });
});
