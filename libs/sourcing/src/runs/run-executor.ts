import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { OutboundGuard } from '@herald/channels';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import { queryRows } from '@herald/persistence';
import { HeraldLogger } from '@herald/telemetry';
import type { DataSource } from 'typeorm';
import { SourceAccountsRepository } from '../accounts/source-accounts.repository';
import { SourceQuota } from '../accounts/source-quota';
import { CandidateWriter } from '../candidates/candidate-writer';
import type { Batch } from '../connectors/connector';
import { connectorFor, isSearchKind } from '../connectors/connectors';
import { SourceFetchError } from '../connectors/guarded-fetch';
import { sourcingRequests } from '../sourcing-metrics';
import { SourcingRunProgress } from './run-progress';

/** Consecutive transient failures of one step before the run fails (it can be resumed). */
export const MAX_STEP_FAILURES = 5;
/** A job works this long, then yields the worker to other runs (and continues at once). */
const SLICE_MS = 15_000;
/** How long a run whose account is paused waits before looking again. */
const PAUSED_ACCOUNT_WAIT_MS = 60_000;

export type ExecutorOutcome =
  | { kind: 'wait'; until: number; reason: string }
  | { kind: 'stopped'; status: string }
  | { kind: 'done'; status: string };

interface RunState {
  status: string;
  cursor: string | null;
  exhausted: boolean;
  discovered: number;
  failures: number;
  job_id: string;
  limit: number;
  criteria: Record<string, unknown>;
  source_account_id: string;
}

/**
 * Runs a sourcing run's search step by step. Each step: the account's breaker and quota are
 * consulted (a unit reserved under an id that names the run and the step's cursor, so the same
 * step after a crash replays its reservation instead of spending again), the connector fetches
 * from the cursor, then one transaction writes the candidates (deduplicated, their qualify jobs
 * in the outbox) and moves the cursor. A crash anywhere repeats at most the step in flight, and
 * the candidates' UNIQUE (run, source_key) makes its repeat add nothing.
 */
@Injectable()
export class SourcingRunExecutor {
  private readonly guard: OutboundGuard;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly accounts: SourceAccountsRepository,
    private readonly quota: SourceQuota,
    private readonly writer: CandidateWriter,
    private readonly logger: HeraldLogger,
    @Inject(HERALD_CONFIG) config: HeraldConfig,
  ) {
    this.guard = new OutboundGuard({ allowPrivateNetworks: config.delivery.allowPrivateNetworks });
  }

  async run(tenantId: string, runId: string, now: () => number = Date.now): Promise<ExecutorOutcome> {
    const sliceEnd = now() + SLICE_MS;
    for (;;) {
      const outcome = await this.step(tenantId, runId);
      if (outcome !== 'continue') return outcome;
      if (now() >= sliceEnd) return { kind: 'wait', until: now(), reason: 'yielding to other runs' };
    }
  }

  private async step(tenantId: string, runId: string): Promise<ExecutorOutcome | 'continue'> {
    const state = await this.begin(tenantId, runId);
    if (!state) return { kind: 'stopped', status: 'missing' };
    if (state.status !== 'running') return { kind: 'stopped', status: state.status };
    if (state.exhausted || state.discovered >= state.limit) {
      const touched = await SourcingRunProgress.touch(this.dataSource.manager, tenantId, runId);
      return { kind: 'done', status: touched === 'completed' ? 'completed' : 'qualifying' };
    }
    const account = await this.accounts.unsealed(tenantId, state.source_account_id);
    if (!account || !isSearchKind(account.kind))
      return this.fail(tenantId, runId, 'the source account no longer exists');
    if (account.status !== 'active')
      return this.wait(
        tenantId,
        runId,
        Date.now() + PAUSED_ACCOUNT_WAIT_MS,
        `source account ${account.status}`,
      );
    const connector = connectorFor(account.kind);
    const ctx = { account: account as never, criteria: state.criteria, cursor: state.cursor };
    const units = connector.requestsPerStep(ctx);
    const requestKind = account.kind === 'profile-visit' ? 'visit' : 'search';
    let reservation: { id: string; backend: 'redis' | 'postgres' } | undefined;
    if (units > 0) {
      const gate = await this.quota.acquire(account);
      if (!gate.allowed) {
        sourcingRequests().inc({ kind: requestKind, outcome: 'breaker' });
        return this.wait(
          tenantId,
          runId,
          gate.retryAt,
          `breaker open for the source account until ${iso(gate.retryAt)}`,
        );
      }
      const reserved = await this.quota.reserve(account, reservationId(runId, state.cursor), units);
      if (!reserved.admitted) {
        sourcingRequests().inc({ kind: requestKind, outcome: 'quota' });
        if (reserved.reason === 'run_cap') return this.fail(tenantId, runId, 'run cap reached');
        const why =
          reserved.reason === 'quota' ? `${reserved.exhausted.join(', ')} quota` : 'quota unavailable';
        return this.wait(
          tenantId,
          runId,
          reserved.retryAt,
          `${why} of the source account exhausted until ${iso(reserved.retryAt)}`,
        );
      }
      reservation = reserved.reservation;
    }
    let batch: Batch;
    try {
      batch = await connector.step({ ...ctx, guard: this.guard });
    } catch (error) {
      if (!(error instanceof SourceFetchError)) throw error;
      sourcingRequests().inc({
        kind: requestKind,
        outcome: error.failure === 'http' ? `http_${error.status ?? 'other'}` : error.failure,
      });
      // The request may have reached the provider: its unit stays spent; the same step retried
      // replays this reservation, so it is never charged twice.
      if (reservation) await this.quota.commit(reservation);
      if (!error.transient) return this.fail(tenantId, runId, error.message);
      await this.quota.recordFailure(account);
      return this.retryLater(tenantId, runId, state.failures + 1, error.message);
    }
    if (units > 0) {
      await this.quota.recordSuccess(account);
      sourcingRequests().inc({ kind: requestKind, outcome: 'ok' }, units);
    }
    const written = await this.dataSource.transaction(async (manager) => {
      const [current] = await manager.query<{ status: string; cursor: string | null; discovered: number }[]>(
        `SELECT status, cursor, discovered FROM sourcing_runs WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
        [tenantId, runId],
      );
      // Another worker moved the run on (or it was paused or cancelled meanwhile): nothing to write.
      if (!current || current.status !== 'running' || current.cursor !== state.cursor) return undefined;
      const result = await this.writer.write(
        manager,
        {
          tenantId,
          runId,
          jobId: state.job_id,
          sourceAccountId: account.id,
          room: Math.max(0, state.limit - current.discovered),
        },
        batch.candidates,
      );
      // The run moved on: earlier hand-backs of a failed job (run-reconciler) were no crash loop.
      await manager.query(
        `UPDATE sourcing_runs
            SET cursor = $3, exhausted = $4, discovered = discovered + $5, duplicates = duplicates + $6,
                requests_spent = requests_spent + $7, failures = 0, handbacks = 0, error = NULL, reason = NULL,
                last_progress_at = now(), updated_at = now()
          WHERE tenant_id = $1 AND id = $2`,
        [
          tenantId,
          runId,
          batch.next,
          batch.next === null,
          result.discovered.length,
          result.duplicates,
          units,
        ],
      );
      await SourcingRunProgress.touch(manager, tenantId, runId);
      return result;
    });
    if (reservation) await this.quota.commit(reservation);
    if (written) await this.writer.dispatch(tenantId, runId, written.qualifyBatches);
    return 'continue';
  }

  /** The run's state, a queued run marked running. */
  private async begin(tenantId: string, runId: string): Promise<RunState | undefined> {
    const [state] = queryRows<RunState>(
      await this.dataSource.query(
        `UPDATE sourcing_runs r
          SET status = CASE WHEN r.status = 'queued' THEN 'running' ELSE r.status END,
              started_at = COALESCE(r.started_at, now()),
              updated_at = CASE WHEN r.status = 'queued' THEN now() ELSE r.updated_at END
         FROM sourcing_jobs j
        WHERE r.tenant_id = $1 AND r.id = $2 AND j.tenant_id = r.tenant_id AND j.id = r.job_id
        RETURNING r.status, r.cursor, r.exhausted, r.discovered, r.failures, r.job_id, j."limit", j.criteria,
                  j.source_account_id`,
        [tenantId, runId],
      ),
    );
    return state;
  }

  private async wait(
    tenantId: string,
    runId: string,
    until: number,
    reason: string,
  ): Promise<ExecutorOutcome> {
    await this.dataSource.query(
      `UPDATE sourcing_runs SET reason = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2 AND status = 'running'`,
      [tenantId, runId, reason],
    );
    return { kind: 'wait', until, reason };
  }

  private async retryLater(
    tenantId: string,
    runId: string,
    failures: number,
    message: string,
  ): Promise<ExecutorOutcome> {
    if (failures >= MAX_STEP_FAILURES)
      return this.fail(tenantId, runId, `${message} (${failures} attempts; resume the run to try again)`);
    await this.dataSource.query(
      `UPDATE sourcing_runs SET failures = $3, error = $4, updated_at = now() WHERE tenant_id = $1 AND id = $2 AND status = 'running'`,
      [tenantId, runId, failures, message],
    );
    const delay = Math.min(1000 * 2 ** (failures - 1), 30_000);
    this.logger.warn({ run_id: runId, failures, err: { message } }, 'sourcing step failed; retrying');
    return { kind: 'wait', until: Date.now() + delay, reason: `retrying after: ${message}` };
  }

  private async fail(tenantId: string, runId: string, message: string): Promise<ExecutorOutcome> {
    await this.dataSource.query(
      `UPDATE sourcing_runs SET status = 'failed', error = $3, finished_at = now(), updated_at = now()
        WHERE tenant_id = $1 AND id = $2 AND status = 'running'`,
      [tenantId, runId, message.slice(0, 1000)],
    );
    this.logger.warn({ run_id: runId, err: { message } }, 'sourcing run failed');
    return { kind: 'done', status: 'failed' };
  }
}

/** One id per (run, step): the step's cursor names it (hashed: cursors are the provider's text). */
export function reservationId(runId: string, cursor: string | null): string {
  const step = cursor === null ? 'start' : createHash('sha256').update(cursor).digest('hex').slice(0, 24);
  return `src:${runId}:${step}`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
