export { QuotaService, type QuotaServiceOptions } from './quota.service';
export { quotaLimits } from './quota-limits';
export { RateLimitModule } from './rate-limit.module';
export {
  ReservationConflictError,
  type BatchReserveResult,
  type CommitOutcome,
  type Denial,
  type PendingReservation,
  type QuotaAccount,
  type QuotaBackend,
  type QuotaLimits,
  type RefundOutcome,
  type Reservation,
  type ReservationRef,
  type ReserveResult,
  type RunCap,
  type WindowUsage,
} from './quota.types';
