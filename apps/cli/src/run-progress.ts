import { fields } from './output';
import { formatDuration, formatPercent, formatRate, progressBar } from './progress';

/** GET /v1/runs/:id, as the CLI reads it. */
export interface RunView {
  id: string;
  campaign_id: string;
  status: string;
  dry_run: boolean;
  counts: {
    targeted: number;
    pending: number;
    sent: number;
    failed: number;
    skipped: number;
    deferred: number;
    cancelled: number;
    /** Older apis lack it. */
    unknown?: number;
  };
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  // The API's own estimate. Older apis lack these fields: the CLI then measures the rate itself.
  progress?: { done: number; total: number; ratio: number; fanout_done: boolean };
  rate_per_second?: number;
  eta?: string | null;
  eta_reason?: 'rate' | 'quota' | null;
  forecast?: { summary: string } | null;
}

/** A run in one of these states never changes again. */
export const FINAL_RUN_STATUSES: ReadonlySet<string> = new Set(['completed', 'cancelled', 'failed']);

export interface RunEstimate {
  /** Deliveries done with: sent, failed, skipped, cancelled or unknown (held for an operator). */
  done: number;
  total: number;
  /** False while the run is still writing its deliveries (`total` still grows). */
  fanoutDone: boolean;
  ratePerSecond?: number;
  etaSeconds?: number;
  etaReason?: 'rate' | 'quota';
}

const WINDOW = 10;

/**
 * Follows a run across polls. The API's `progress`, `rate_per_second` and `eta` are used as they
 * are; against an api without them, the rate is how fast deliveries settled over the last few
 * polls and the ETA what remains at that rate.
 */
export class RunProgress {
  private readonly samples: { at: number; done: number }[] = [];

  observe(run: RunView, now: number): RunEstimate {
    const c = run.counts;
    const done = run.progress?.done ?? c.sent + c.failed + c.skipped + c.cancelled + (c.unknown ?? 0);
    const total = run.progress?.total ?? c.targeted;
    this.samples.push({ at: now, done });
    if (this.samples.length > WINDOW) this.samples.shift();
    const estimate: RunEstimate = {
      done,
      total,
      fanoutDone: run.progress?.fanout_done ?? (run.status !== 'queued' && total > 0),
    };
    if (run.rate_per_second !== undefined || run.eta !== undefined) {
      if (run.rate_per_second !== undefined) estimate.ratePerSecond = run.rate_per_second;
      if (run.eta) {
        estimate.etaSeconds = Math.max(0, (Date.parse(run.eta) - now) / 1000);
        if (run.eta_reason) estimate.etaReason = run.eta_reason;
      }
      return estimate;
    }
    const rate = this.measuredRate();
    if (rate !== undefined) estimate.ratePerSecond = rate;
    const remaining = Math.max(0, total - done);
    if (rate && remaining > 0) estimate.etaSeconds = remaining / rate;
    return estimate;
  }

  private measuredRate(): number | undefined {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last || last.at <= first.at) return undefined;
    return ((last.done - first.done) * 1000) / (last.at - first.at);
  }
}

/** `run 0190f5e4 running [#####-----] 42% 210/500 · sent 200 · deferred 0 · failed 5 · skipped 5 · 45/s · ETA 6s` */
export function progressText(run: RunView, estimate: RunEstimate): string {
  const c = run.counts;
  const head = `run ${run.id.slice(0, 8)} ${run.status}`;
  const final = FINAL_RUN_STATUSES.has(run.status);
  if (!estimate.fanoutDone && !final) return `${head} · selecting the audience… ${estimate.total} so far`;
  const fraction = estimate.total > 0 ? estimate.done / estimate.total : 1;
  const parts = [
    `${head} ${progressBar(fraction)} ${formatPercent(fraction)} ${estimate.done}/${estimate.total}`,
    `sent ${c.sent}`,
    `deferred ${c.deferred}`,
    `failed ${c.failed}`,
    `skipped ${c.skipped}`,
  ];
  if (c.cancelled > 0) parts.push(`cancelled ${c.cancelled}`);
  if ((c.unknown ?? 0) > 0) parts.push(`unknown ${c.unknown} (herald deliveries unknown)`);
  if (estimate.ratePerSecond !== undefined) parts.push(formatRate(estimate.ratePerSecond));
  if (estimate.etaSeconds !== undefined && !final) {
    const why = estimate.etaReason === 'quota' ? ' (quota)' : '';
    parts.push(`ETA ${formatDuration(estimate.etaSeconds)}${why}`);
  }
  return parts.join(' · ');
}

/** The run as aligned fields (a dry run's forecast summary last). */
export function renderRun(run: RunView): string {
  const c = run.counts;
  const text = fields([
    ['run', run.id],
    ['campaign', run.campaign_id],
    ['status', run.status],
    ['dry run', run.dry_run ? 'yes' : 'no'],
    ['targeted', c.targeted],
    ['pending', c.pending],
    ['sent', c.sent],
    ['deferred', c.deferred],
    ['failed', c.failed],
    ['skipped', c.skipped],
    ['cancelled', c.cancelled],
    ...(c.unknown !== undefined ? [['unknown', c.unknown] as const] : []),
    ['created', run.created_at],
    ['started', run.started_at],
    ['finished', run.finished_at],
    ...(run.eta ? [['eta', `${run.eta}${run.eta_reason ? ` (${run.eta_reason})` : ''}`] as const] : []),
  ]);
  return run.forecast ? `${text}\n\n${run.forecast.summary}` : text;
}
