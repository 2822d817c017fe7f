import { Injectable } from '@nestjs/common';
import { QuotaService, type ReservationRef, type ReserveResult, type WindowUsage } from '@herald/rate-limit';
import { CircuitBreaker, type CircuitKey } from '@herald/resilience';
import type { AcquireResult } from '@herald/resilience';
import { sourceQuotaAccount } from './source-accounts.repository';
import type { SourceAccountRecord } from './source-account';

type QuotaAccountOf = Pick<SourceAccountRecord, 'tenantId' | 'id' | 'quotas' | 'timeZone'>;

/**
 * A source account's quota and breaker, on the same engines as sender accounts: a search
 * request, a profile visit or an enrichment lookup spends one unit of the account's hourly,
 * daily and weekly windows (in its zone), reserved before the request and committed after it
 * (refunded when it never left). Reservation ids are the caller's and must name the request
 * (`<run>:page:<n>`), so a request repeated after a crash replays its reservation instead of
 * spending a second unit. The breaker is fleet-wide per account (`<kind>:<account id>`).
 */
@Injectable()
export class SourceQuota {
  constructor(
    private readonly quota: QuotaService,
    private readonly breaker: CircuitBreaker,
  ) {}

  reserve(account: QuotaAccountOf, reservationId: string, units = 1): Promise<ReserveResult> {
    return this.quota.reserve({ account: sourceQuotaAccount(account), reservationId, units });
  }

  async commit(ref: ReservationRef): Promise<void> {
    await this.quota.commit(ref);
  }

  async refund(ref: ReservationRef): Promise<void> {
    await this.quota.refund(ref);
  }

  usage(account: QuotaAccountOf): Promise<WindowUsage[]> {
    return this.quota.usage(sourceQuotaAccount(account));
  }

  /** May a request go to this account's provider now? (`retryAt` when its circuit is open.) */
  acquire(account: Pick<SourceAccountRecord, 'kind' | 'id'>): Promise<AcquireResult> {
    return this.breaker.acquire(sourceCircuitKey(account));
  }

  /** The provider answered (a 4xx other than 429 is an answer too). */
  recordSuccess(account: Pick<SourceAccountRecord, 'kind' | 'id'>): Promise<void> {
    return this.breaker.recordSuccess(sourceCircuitKey(account));
  }

  /** A transient failure: timeout, connection refused, 5xx, 429. */
  async recordFailure(account: Pick<SourceAccountRecord, 'kind' | 'id'>): Promise<void> {
    await this.breaker.recordFailure(sourceCircuitKey(account));
  }
}

export function sourceCircuitKey(account: Pick<SourceAccountRecord, 'kind' | 'id'>): CircuitKey {
  return { channel: account.kind, account: account.id };
}
