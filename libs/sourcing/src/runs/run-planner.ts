import { Inject, Injectable } from '@nestjs/common';
import { countByDay, planQuota } from '@herald/campaigns';
import { CLOCK, type Clock, type WindowUnit } from '@herald/time';
import type { SourceAccountRecord, UnsealedSourceAccount } from '../accounts/source-account';
import { SourceQuota } from '../accounts/source-quota';
import { connectorFor, type SearchKind } from '../connectors/connectors';
import type { SourcingForecast, SourcingRunRecord } from './run-record';

const number = new Intl.NumberFormat('en-US');

/**
 * What a run would spend and when: the connector's requests for the candidates still wanted,
 * placed in the account's quota windows as they stand now (the campaigns' quota planner).
 */
@Injectable()
export class RunPlanner {
  constructor(
    private readonly quota: SourceQuota,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async forecast(
    account: UnsealedSourceAccount,
    criteria: Record<string, unknown>,
    wanted: number,
  ): Promise<SourcingForecast> {
    const kind = account.kind as SearchKind;
    const requests = connectorFor(kind).plannedRequests({ account: account as never, criteria }, wanted);
    const what = kind === 'profile-visit' ? 'visit' : kind === 'csv' ? 'none' : 'search';
    if (requests === 0)
      return {
        requests: 0,
        kind: what,
        by_day: [],
        finishes_at: null,
        unplaced: 0,
        summary: 'no request needed',
      };
    const plan = await this.plan(account, requests);
    const noun = what === 'visit' ? 'visit' : 'search request';
    const byDay = countByDay(plan, account.timeZone);
    let summary = `${number.format(requests)} ${noun}${requests === 1 ? '' : 's'}`;
    if (plan.unplaced > 0) summary += `, ${number.format(plan.unplaced)} never allowed by the quota`;
    else if (byDay.length <= 1) summary += ', all allowed by the quota now';
    else summary += ` over ${byDay.length} days of quota (the last on ${byDay.at(-1)!.date})`;
    return {
      requests,
      kind: what,
      by_day: byDay,
      finishes_at: plan.unplaced > 0 || plan.lastAtMs === null ? null : new Date(plan.lastAtMs).toISOString(),
      unplaced: plan.unplaced,
      summary,
    };
  }

  /**
   * A running run's ETA: the later of when the quota allows its remaining requests and when its
   * recent rate would find the candidates still wanted; `etaReason` says which decides.
   */
  async estimate(
    record: SourcingRunRecord,
    account: UnsealedSourceAccount,
    criteria: Record<string, unknown>,
  ): Promise<void> {
    if (record.dryRun || record.status !== 'running') return;
    const now = this.clock.nowMs();
    const open = record.stages.discovered + record.stages.assessed + record.stages.enriched;
    const wanted = record.exhausted ? 0 : Math.max(0, record.limit - record.discovered);
    const remaining = wanted + open;
    if (remaining === 0) return;
    const byRate =
      record.ratePerSecond > 0 ? now + Math.ceil((remaining / record.ratePerSecond) * 1000) : null;
    const kind = account.kind as SearchKind;
    const requests =
      wanted > 0 ? connectorFor(kind).plannedRequests({ account: account as never, criteria }, wanted) : 0;
    const plan = requests > 0 ? await this.plan(account, requests) : null;
    if (plan && plan.unplaced > 0) return;
    const byQuota = plan?.lastAtMs ?? null;
    if (byQuota !== null && byQuota > now && (byRate === null || byQuota >= byRate)) {
      record.eta = new Date(byQuota);
      record.etaReason = 'quota';
    } else if (byRate !== null) {
      record.eta = new Date(byRate);
      record.etaReason = 'rate';
    }
  }

  private async plan(account: SourceAccountRecord, count: number) {
    const limits: Partial<Record<WindowUnit, number>> = {};
    const remaining: Partial<Record<WindowUnit, number>> = {};
    for (const w of await this.quota.usage(account)) {
      limits[w.unit] = w.limit;
      remaining[w.unit] = w.remaining;
    }
    return planQuota({
      count,
      fromMs: this.clock.nowMs(),
      zone: account.timeZone,
      limits,
      remaining,
      policy: 'defer',
    });
  }
}
