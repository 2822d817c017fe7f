import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import { uuidv7 } from '@herald/contacts';
import { OutboxRelay } from '@herald/deliveries';
import { queryRows } from '@herald/persistence';
import { JobProducer, QUEUES } from '@herald/queues';
import { HeraldLogger, HeraldMetrics } from '@herald/telemetry';
import { CLOCK, cronPattern, localDate, previousSlot, type Clock, type DailySchedule } from '@herald/time';
import type { DataSource } from 'typeorm';
import type { CampaignKind, CampaignStatus, CatchUpPolicy, Schedule } from './campaign-fields';

/** Kinds whose schedule starts runs (sequences send to enrollments). */
const SCHEDULED_KINDS: readonly CampaignKind[] = ['broadcast', 'birthday'];
/** Job scheduler ids Herald owns: one per campaign. */
const SCHEDULER_PREFIX = 'campaign-';

/** A campaign as its schedule needs it (`ScheduledCampaign`); callers add the WHERE clause. */
const SELECT_SCHEDULED = `
  SELECT g.tenant_id, g.id, g.kind, g.status, g.schedule, g.catch_up, t.time_zone AS tenant_zone,
         g.updated_at AS scheduled_since
    FROM campaigns g JOIN tenants t ON t.id = g.tenant_id`;

export type FireOutcome = 'fired' | 'duplicate' | 'skipped_late' | 'superseded' | 'inactive' | 'stale';

interface ScheduledCampaign {
  tenant_id: string;
  id: string;
  kind: CampaignKind;
  status: CampaignStatus;
  schedule: Schedule;
  catch_up: CatchUpPolicy;
  tenant_zone: string;
  scheduled_since: Date;
}

/** A campaign's schedule as the time library reads it (its zone defaults to the tenant's). */
export function dailySchedule(schedule: Schedule, tenantZone: string): DailySchedule {
  return {
    at: schedule.at,
    ...(schedule.days ? { days: schedule.days } : {}),
    timeZone: schedule.time_zone ?? tenantZone,
  };
}

export function schedulerId(campaignId: string): string {
  return `${SCHEDULER_PREFIX}${campaignId}`;
}

/**
 * Campaign schedules (promise: campaigns run themselves). Each active scheduled campaign has one
 * BullMQ job scheduler (cron pattern in the schedule's zone, so DST is BullMQ's cron-parser's,
 * and `previousSlot` agrees with it by construction) whose jobs reach any worker, even while no
 * beat runs. A fire writes the run for the slot's local day and its fan-out job through the
 * outbox in one transaction; the unique (campaign, scheduled_for) makes every extra fire — two
 * producers, a retry, a catch-up racing the scheduler — a no-op.
 */
@Injectable()
export class CampaignSchedules {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly outbox: OutboxRelay,
    private readonly producer: JobProducer,
    private readonly metrics: HeraldMetrics,
    private readonly logger: HeraldLogger,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
  ) {}

  /** Starts the run of one slot (worker, `campaigns.fire`). */
  async fire(
    tenantId: string,
    campaignId: string,
    slotMs: number,
  ): Promise<{ outcome: FireOutcome; runId?: string }> {
    const result = await this.dataSource.transaction('READ COMMITTED', async (manager) => {
      const [campaign] = await manager.query<ScheduledCampaign[]>(
        `${SELECT_SCHEDULED} WHERE g.tenant_id = $1 AND g.id = $2 FOR UPDATE OF g`,
        [tenantId, campaignId],
      );
      if (!campaign?.schedule || campaign.status !== 'active' || !SCHEDULED_KINDS.includes(campaign.kind))
        return { outcome: 'inactive' as const, kind: campaign?.kind };
      const schedule = dailySchedule(campaign.schedule, campaign.tenant_zone);
      // A job of a schedule that has changed since it was planned: the new scheduler has its own.
      if (previousSlot(schedule, slotMs).getTime() !== slotMs)
        return { outcome: 'stale' as const, kind: campaign.kind };
      const now = this.clock.nowMs();
      const late = now - slotMs > this.config.beat.scheduleLateAfterMs;
      if (late && campaign.catch_up === 'skip')
        return { outcome: 'skipped_late' as const, kind: campaign.kind };
      // After an outage of days, only the latest missed slot runs (once): older ones are superseded.
      if (late && previousSlot(schedule, now).getTime() !== slotMs)
        return { outcome: 'superseded' as const, kind: campaign.kind };
      const id = uuidv7();
      const inserted = queryRows<{ id: string }>(
        await manager.query(
          `INSERT INTO campaign_runs (tenant_id, id, campaign_id, trigger, scheduled_for, slot_at)
           VALUES ($1, $2, $3, 'schedule', $4, $5)
           ON CONFLICT (tenant_id, campaign_id, scheduled_for) WHERE scheduled_for IS NOT NULL DO NOTHING
           RETURNING id`,
          [tenantId, id, campaignId, localDate(slotMs, schedule.timeZone), new Date(slotMs).toISOString()],
        ),
      );
      if (inserted.length === 0) return { outcome: 'duplicate' as const, kind: campaign.kind };
      await this.outbox.write(manager, tenantId, 'runs.fanout', { tenant_id: tenantId, run_id: id });
      return { outcome: 'fired' as const, kind: campaign.kind, runId: id };
    });
    this.metrics.scheduleFires.inc({ kind: result.kind ?? 'unknown', outcome: result.outcome });
    if (result.runId) {
      await this.outbox.dispatchJob('runs.fanout', { tenant_id: tenantId, run_id: result.runId });
      this.logger.info(
        { campaign_id: campaignId, run_id: result.runId, slot: new Date(slotMs).toISOString() },
        'scheduled run started',
      );
      return { outcome: result.outcome, runId: result.runId };
    }
    this.logger.info(
      { campaign_id: campaignId, slot: new Date(slotMs).toISOString(), outcome: result.outcome },
      'schedule fire did not start a run',
    );
    return { outcome: result.outcome };
  }

  /**
   * The leading beat's reconciliation: one job scheduler per active scheduled campaign (upserted
   * when missing or changed, removed when the campaign is paused, archived or unscheduled), and a
   * catch-up fire for every slot that should have a run and has none. Returns the changes made.
   */
  async reconcile(): Promise<number> {
    const campaigns = await this.dataSource.query<ScheduledCampaign[]>(
      `${SELECT_SCHEDULED} WHERE g.schedule IS NOT NULL AND g.status = 'active' AND g.kind = ANY ($1::text[])`,
      [SCHEDULED_KINDS],
    );
    const queue = this.producer.queue(QUEUES.runs);
    const existing = new Map(
      (await queue.getJobSchedulers(0, -1))
        .filter((s) => s.key.startsWith(SCHEDULER_PREFIX))
        .map((s) => [s.key, s]),
    );
    const now = this.clock.nowMs();
    const missingAfterMs = this.missingAfterMs();
    let changes = 0;
    const wanted = new Set<string>();
    for (const campaign of campaigns) {
      const schedule = dailySchedule(campaign.schedule, campaign.tenant_zone);
      const id = schedulerId(campaign.id);
      wanted.add(id);
      const pattern = cronPattern(schedule);
      const current = existing.get(id);
      // Upserted again when changed, or stuck: a `next` long past means no job is coming (BullMQ
      // drops a scheduler's next job when cron-parser throws, e.g. around Lord Howe's half-hour DST).
      const stuck = current?.next !== undefined && current.next < now - missingAfterMs;
      if (current?.pattern === pattern && current.tz === schedule.timeZone && !stuck) continue;
      const payload = { tenant_id: campaign.tenant_id, campaign_id: campaign.id };
      // A stuck scheduler's overdue job may still exist under the id an upsert would pick again.
      if (stuck) await queue.removeJobScheduler(id);
      await queue.upsertJobScheduler(
        id,
        { pattern, tz: schedule.timeZone },
        {
          name: 'campaigns.fire',
          data: { payload, trace: { request_id: `schedule-${campaign.id}`, tenant_id: campaign.tenant_id } },
          opts: {
            attempts: 10,
            backoff: { type: 'exponential', delay: 1000 },
            removeOnComplete: { age: 2 * 24 * 3600 },
          },
        },
      );
      changes += 1;
    }
    for (const id of existing.keys()) {
      if (wanted.has(id)) continue;
      await queue.removeJobScheduler(id);
      changes += 1;
    }
    return changes + (await this.catchUp(campaigns));
  }

  /** Fires the latest slot of every campaign whose run for it is missing. */
  private async catchUp(campaigns: readonly ScheduledCampaign[]): Promise<number> {
    const now = this.clock.nowMs();
    const missingAfterMs = this.missingAfterMs();
    const due = campaigns
      .map((campaign) => {
        const schedule = dailySchedule(campaign.schedule, campaign.tenant_zone);
        const slot = previousSlot(schedule, now - missingAfterMs).getTime();
        return { campaign, slot, day: localDate(slot, schedule.timeZone) };
      })
      // A slot from before the schedule was set is not missed.
      .filter(({ campaign, slot }) => slot > new Date(campaign.scheduled_since).getTime());
    if (due.length === 0) return 0;
    const present = await this.dataSource.query<{ campaign_id: string; day: string }[]>(
      `SELECT r.campaign_id, to_char(r.scheduled_for, 'YYYY-MM-DD') AS day
         FROM unnest($1::uuid[], $2::uuid[], $3::date[]) AS k (tenant_id, campaign_id, day)
         JOIN campaign_runs r ON r.tenant_id = k.tenant_id AND r.campaign_id = k.campaign_id AND r.scheduled_for = k.day`,
      [due.map((d) => d.campaign.tenant_id), due.map((d) => d.campaign.id), due.map((d) => d.day)],
    );
    const done = new Set(present.map((r) => `${r.campaign_id}/${r.day}`));
    const missing = due.filter((d) => !done.has(`${d.campaign.id}/${d.day}`));
    // Deterministic ids: repeating this every sweep adds each slot's job once.
    await this.producer.enqueueBulk(
      'campaigns.fire',
      missing.map((d) => ({
        tenant_id: d.campaign.tenant_id,
        campaign_id: d.campaign.id,
        slot: new Date(d.slot).toISOString(),
      })),
    );
    return missing.length;
  }

  /**
   * A slot with no run two sweeps after it is missing (its scheduler job was lost with Redis
   * data, or no worker took it): the beat fires it itself.
   */
  private missingAfterMs(): number {
    return Math.max(2 * this.config.beat.sweepIntervalMs, 10_000);
  }
}
