import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { dailySchedule, type Schedule } from '@herald/campaigns';
import { JobProducer, QUEUES } from '@herald/queues';
import { HeraldLogger } from '@herald/telemetry';
import { cronPattern, localDate, previousSlot } from '@herald/time';
import type { DataSource } from 'typeorm';
import { SourcingRunLifecycle } from './run-lifecycle';

const SCHEDULER_PREFIX = 'sourcing-job-';

interface ScheduledJob {
  tenant_id: string;
  id: string;
  schedule: Schedule;
  tenant_zone: string;
  scheduled_since: Date;
}

/**
 * Sourcing job schedules, as campaign schedules: one BullMQ job scheduler per active scheduled
 * job (cron in the schedule's zone, default the tenant's), reconciled by the leading beat; a
 * fire starts the run of the slot's local day, once (UNIQUE (job, scheduled_for)). A slot the
 * scheduler missed is fired by the beat's catch-up.
 */
@Injectable()
export class SourcingSchedules {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly runs: SourcingRunLifecycle,
    private readonly producer: JobProducer,
    private readonly logger: HeraldLogger,
  ) {}

  async fire(tenantId: string, jobId: string, slotMs: number): Promise<{ outcome: string; runId?: string }> {
    const result = await this.dataSource.transaction('READ COMMITTED', async (manager) => {
      const [job] = await manager.query<ScheduledJob[]>(
        `SELECT j.tenant_id, j.id, j.schedule, t.time_zone AS tenant_zone, j.updated_at AS scheduled_since
           FROM sourcing_jobs j JOIN tenants t ON t.id = j.tenant_id
          WHERE j.tenant_id = $1 AND j.id = $2 AND j.status = 'active' AND j.schedule IS NOT NULL`,
        [tenantId, jobId],
      );
      if (!job) return { outcome: 'inactive' };
      const schedule = dailySchedule(job.schedule, job.tenant_zone);
      if (previousSlot(schedule, slotMs).getTime() !== slotMs) return { outcome: 'stale' };
      const run = await this.runs.start(manager, tenantId, jobId, {
        dryRun: false,
        trigger: 'schedule',
        scheduledFor: localDate(slotMs, schedule.timeZone),
      });
      if (run === undefined) return { outcome: 'inactive' };
      if (run === 'duplicate') return { outcome: 'duplicate' };
      return { outcome: 'fired', runId: run.id };
    });
    if (result.runId) {
      await this.runs.dispatch(tenantId, result.runId);
      this.logger.info({ sourcing_job_id: jobId, run_id: result.runId }, 'scheduled sourcing run started');
    }
    return result;
  }

  /** The leading beat's sweep: schedulers upserted or removed, missed slots fired. Returns the changes. */
  async reconcile(nowMs = Date.now()): Promise<number> {
    const jobs = await this.dataSource.query<ScheduledJob[]>(
      `SELECT j.tenant_id, j.id, j.schedule, t.time_zone AS tenant_zone, j.updated_at AS scheduled_since
         FROM sourcing_jobs j JOIN tenants t ON t.id = j.tenant_id
        WHERE j.status = 'active' AND j.schedule IS NOT NULL`,
    );
    const queue = this.producer.queue(QUEUES.sourcing);
    const existing = new Map(
      (await queue.getJobSchedulers(0, -1))
        .filter((s) => s.key.startsWith(SCHEDULER_PREFIX))
        .map((s) => [s.key, s]),
    );
    let changes = 0;
    const wanted = new Set<string>();
    const due: { job: ScheduledJob; slot: number; day: string }[] = [];
    for (const job of jobs) {
      const schedule = dailySchedule(job.schedule, job.tenant_zone);
      const id = `${SCHEDULER_PREFIX}${job.id}`;
      wanted.add(id);
      const pattern = cronPattern(schedule);
      const current = existing.get(id);
      const slot = previousSlot(schedule, nowMs - 10_000).getTime();
      if (slot > new Date(job.scheduled_since).getTime())
        due.push({ job, slot, day: localDate(slot, schedule.timeZone) });
      if (current?.pattern === pattern && current.tz === schedule.timeZone) continue;
      await queue.upsertJobScheduler(
        id,
        { pattern, tz: schedule.timeZone },
        {
          name: 'sourcing.fire',
          data: {
            payload: { tenant_id: job.tenant_id, job_id: job.id },
            trace: { request_id: `sourcing-schedule-${job.id}`, tenant_id: job.tenant_id },
          },
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
    if (due.length === 0) return changes;
    const present = await this.dataSource.query<{ job_id: string; day: string }[]>(
      `SELECT r.job_id, to_char(r.scheduled_for, 'YYYY-MM-DD') AS day
         FROM unnest($1::uuid[], $2::uuid[], $3::date[]) AS k (tenant_id, job_id, day)
         JOIN sourcing_runs r ON r.tenant_id = k.tenant_id AND r.job_id = k.job_id AND r.scheduled_for = k.day`,
      [due.map((d) => d.job.tenant_id), due.map((d) => d.job.id), due.map((d) => d.day)],
    );
    const done = new Set(present.map((r) => `${r.job_id}/${r.day}`));
    const missing = due.filter((d) => !done.has(`${d.job.id}/${d.day}`));
    await this.producer.enqueueBulk(
      'sourcing.fire',
      missing.map((d) => ({
        tenant_id: d.job.tenant_id,
        job_id: d.job.id,
        slot: new Date(d.slot).toISOString(),
      })),
    );
    return changes + missing.length;
  }
}
