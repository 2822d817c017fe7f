import {
  ApiProblem,
  enrollmentsList,
  runsGet,
  senderAccountsQuota,
  unwrap,
  type Client,
} from '@herald/api-client';
import type { DemoState } from './demo-seed';
import { color, stripColours, type Display } from './display';
import type { MailSink } from './mail-sink';
import type { DevWebhookSink } from './webhook-sink';

/** GET /v1/runs/:id as the monitor reads it; `progress` and `eta` are used when the API sends them. */
export interface RunView {
  id: string;
  status: string;
  counts: Record<'targeted' | 'pending' | 'sent' | 'failed' | 'skipped' | 'deferred' | 'cancelled', number>;
  /** Since the run-progress release; older APIs do not send them, and the monitor computes its own. */
  progress?: { done: number; total: number; ratio: number; fanout_done: boolean };
  rate_per_second?: number;
  eta?: string | null;
  eta_reason?: 'rate' | 'quota' | null;
  started_at: string | null;
  finished_at: string | null;
}

const ENROLLMENT_STATUSES = ['active', 'completed', 'replied', 'stopped'] as const;
type EnrollmentCounts = Record<(typeof ENROLLMENT_STATUSES)[number], number>;

interface RunTrack {
  label: string;
  name: string;
  id: string;
  view?: RunView;
  /** (time, sent) samples of the last seconds, for the rate. */
  samples: { at: number; sent: number }[];
  announced: boolean;
  quotaAnnounced: boolean;
}

const BAR = 28;
const fmt = (n: number) => n.toLocaleString('en-US');

/**
 * Follows the demo's runs and sequence through the public API (and the sinks' counts), draws a
 * progress bar per run and a sequence line, and reports milestones as log lines: first delivery,
 * a run completing, the sequence's steps going out. Plain periodic lines when not live.
 */
export class DemoMonitor {
  private readonly runs: RunTrack[] = [];
  private enrollments: EnrollmentCounts | 'unavailable' | undefined;
  private quotaResets = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private lastPlain = 0;
  private lastPlainText = '';
  private firstDeliveryAnnounced = false;
  private stepsAnnounced = new Set<number>();
  private lastSlowPoll = 0;
  private settledResolve: (() => void) | undefined;
  /** Resolves once every run has nothing left pending (all sent, failed, skipped or deferred). */
  readonly settled: Promise<void>;

  constructor(
    private readonly api: Client,
    private readonly state: DemoState,
    private readonly display: Display,
    private readonly sinks: { mail: MailSink; webhook: DevWebhookSink },
    private readonly say: (line: string) => void,
    private readonly startedAt: number,
  ) {
    this.settled = new Promise((resolve) => (this.settledResolve = resolve));
    if (state.runs.broadcast)
      this.runs.push(track('broadcast', 'Spring product update', state.runs.broadcast));
    if (state.runs.birthday) this.runs.push(track('birthday', 'Happy birthday', state.runs.birthday));
    if (this.runs.length === 0) this.settledResolve?.();
  }

  start(intervalMs: number): void {
    const tick = () => {
      if (this.polling) return;
      this.polling = true;
      this.poll()
        .catch(() => undefined) // the api restarting or busy: the next tick tries again
        .finally(() => (this.polling = false));
    };
    tick();
    this.timer = setInterval(tick, intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async poll(): Promise<void> {
    const now = Date.now();
    await Promise.all(
      this.runs.map(async (run) => {
        const body: RunView = await unwrap(runsGet({ client: this.api, path: { id: run.id } }));
        run.view = body;
        run.samples.push({ at: now, sent: body.counts.sent + body.counts.failed });
        while (run.samples.length > 2 && now - run.samples[0]!.at > 5_000) run.samples.shift();
      }),
    );
    if (now - this.lastSlowPoll > 2_000) {
      this.lastSlowPoll = now;
      await Promise.all([this.pollEnrollments(), this.pollQuotas()]);
    }
    this.announce();
    const lines = this.lines();
    this.display.setBlock(lines);
    if (!this.display.live) this.plain(lines, now);
    const runsSettled = this.runs.every(
      (r) => r.view && r.view.status !== 'queued' && r.view.counts.pending === 0,
    );
    if (runsSettled) this.settledResolve?.();
  }

  private async pollEnrollments(): Promise<void> {
    const id = this.state.campaigns.sequence;
    if (!id || this.enrollments === 'unavailable') return;
    if (!this.state.enrollments) return;
    const counts: EnrollmentCounts = { active: 0, completed: 0, replied: 0, stopped: 0 };
    for (const status of ENROLLMENT_STATUSES) {
      let cursor: string | null = null;
      do {
        let page;
        try {
          page = await unwrap(
            enrollmentsList({
              client: this.api,
              path: { id },
              query: { status, limit: '1000', ...(cursor ? { cursor } : {}) },
            }),
          );
        } catch (error) {
          if (!(error instanceof ApiProblem) || (error.status !== 404 && error.status !== 405)) throw error;
          this.enrollments = 'unavailable';
          return;
        }
        counts[status] += page.data.length;
        cursor = page.next_cursor;
      } while (cursor);
    }
    this.enrollments = counts;
  }

  private async pollQuotas(): Promise<void> {
    for (const accountId of [this.state.accounts.smtp, this.state.accounts.webhook]) {
      if (!accountId) continue;
      const body = await unwrap(senderAccountsQuota({ client: this.api, path: { id: accountId } }));
      const spent = body.windows.find((w) => w.remaining === 0);
      if (spent) this.quotaResets.set(accountId, spent.resets_at);
      else this.quotaResets.delete(accountId);
    }
  }

  /** Milestones worth a line of their own. */
  private announce(): void {
    const firsts = [
      { at: this.sinks.mail.firstAt, where: `an email in ${'the mail sink'}` },
      { at: this.sinks.webhook.firstAt, where: 'a webhook at the webhook sink' },
    ].filter((f): f is { at: number; where: string } => f.at !== undefined);
    if (!this.firstDeliveryAnnounced && firsts.length > 0) {
      this.firstDeliveryAnnounced = true;
      const first = firsts.sort((a, b) => a.at - b.at)[0]!;
      this.say(
        `first delivery ${((first.at - this.startedAt) / 1000).toFixed(1)} s after start: ${first.where}`,
      );
    }
    for (const run of this.runs) {
      const v = run.view;
      if (
        v &&
        !run.quotaAnnounced &&
        v.status === 'running' &&
        v.counts.pending === 0 &&
        v.counts.deferred > 0
      ) {
        run.quotaAnnounced = true;
        const until = v.eta ?? this.quotaResets.get(this.accountOf(run) ?? '');
        this.say(
          `${run.label} run: ${fmt(v.counts.sent)} sent, ${fmt(v.counts.deferred)} deferred by the sender account's quota — they go out${until ? ` at ${clock(until)}` : ' when it resets'}, by themselves`,
        );
      }
      if (!v || run.announced || v.status !== 'completed') continue;
      run.announced = true;
      const took = v.started_at && v.finished_at ? Date.parse(v.finished_at) - Date.parse(v.started_at) : 0;
      this.say(
        `${run.label} run completed: ${fmt(v.counts.sent)} sent, ${fmt(v.counts.failed)} failed, ${fmt(v.counts.skipped)} skipped of ${fmt(v.counts.targeted)}${took ? ` in ${(took / 1000).toFixed(1)} s` : ''}`,
      );
    }
    const steps = this.state.campaigns.sequence
      ? this.sinks.webhook.stepsByCampaign.get(this.state.campaigns.sequence)
      : undefined;
    const enrolled = this.state.enrollments
      ? this.state.enrollments.enrolled + this.state.enrollments.already_enrolled
      : 0;
    for (const [step, count] of steps ?? []) {
      if (this.stepsAnnounced.has(step) || enrolled === 0 || count < enrolled) continue;
      this.stepsAnnounced.add(step);
      this.say(`sequence step ${step} sent to all ${fmt(enrolled)} enrolled contacts`);
    }
  }

  private lines(): string[] {
    const lines = this.runs.map((r) => this.runLine(r));
    if (this.state.campaigns.sequence) lines.push(this.sequenceLine());
    lines.push(
      color.dim(
        `sinks: ${fmt(this.sinks.mail.received)} emails · ${fmt(this.sinks.webhook.delivered)} webhooks` +
          (this.sinks.webhook.replays ? ` (${fmt(this.sinks.webhook.replays)} replays answered)` : '') +
          (this.sinks.webhook.badSignatures
            ? ` · ${fmt(this.sinks.webhook.badSignatures)} bad signatures`
            : ''),
      ),
    );
    return lines;
  }

  private runLine(run: RunTrack): string {
    const head = `${run.label.padEnd(9)} ${run.name.padEnd(22)}`;
    const v = run.view;
    if (!v) return `${head} …`;
    const c = v.counts;
    const total = Math.max(c.targeted, 1);
    const cells = (n: number) => Math.round((n / total) * BAR);
    const sent = cells(c.sent);
    const failed = cells(c.failed + c.skipped + c.cancelled);
    const deferred = Math.min(cells(c.deferred), BAR - sent - failed);
    const rest = Math.max(0, BAR - sent - failed - deferred);
    const bar =
      color.green('█'.repeat(sent)) +
      color.red('█'.repeat(failed)) +
      color.yellow('▒'.repeat(deferred)) +
      color.dim('░'.repeat(rest));
    const parts = [`${fmt(c.sent)}/${fmt(c.targeted)} sent`];
    if (c.deferred) parts.push(color.yellow(`${fmt(c.deferred)} deferred`));
    parts.push(c.failed ? color.red(`${fmt(c.failed)} failed`) : '0 failed');
    if (c.skipped) parts.push(`${fmt(c.skipped)} skipped`);
    parts.push(this.tail(run, v));
    return `${head} ${bar} ${parts.join(' · ')}`;
  }

  private tail(run: RunTrack, v: RunView): string {
    if (v.status === 'completed') {
      const took = v.started_at && v.finished_at ? Date.parse(v.finished_at) - Date.parse(v.started_at) : 0;
      return color.green(`✓ done${took ? ` in ${(took / 1000).toFixed(1)} s` : ''}`);
    }
    if (v.status === 'queued') return 'queued';
    if (v.status !== 'running') return v.status;
    const first = run.samples[0];
    const last = run.samples[run.samples.length - 1];
    const rate =
      v.rate_per_second ??
      (first && last && last.at > first.at ? ((last.sent - first.sent) * 1000) / (last.at - first.at) : 0);
    const resets = this.quotaResets.get(this.accountOf(run) ?? '');
    if (v.counts.pending === 0 && v.counts.deferred > 0) {
      const until = v.eta ?? resets;
      return color.yellow(`waiting for quota${until ? ` · ETA ${clock(until)}` : ''}`);
    }
    const etaSeconds =
      v.eta !== undefined
        ? v.eta === null
          ? undefined
          : Math.max(0, (Date.parse(v.eta) - Date.now()) / 1000)
        : rate > 0
          ? v.counts.pending / rate
          : undefined;
    const fanout = v.progress?.fanout_done === false ? ['fanning out'] : [];
    const eta =
      etaSeconds === undefined
        ? 'ETA …'
        : etaSeconds > 120
          ? `ETA ${clock(new Date(Date.now() + etaSeconds * 1000).toISOString())}${v.eta_reason === 'quota' ? ' (quota)' : ''}`
          : `ETA ${duration(etaSeconds)}`;
    const pct = v.progress ? Math.floor(v.progress.ratio * 100) : undefined;
    return [...fanout, `${fmt(Math.round(rate))}/s`, eta, ...(pct !== undefined ? [`${pct}%`] : [])].join(
      ' · ',
    );
  }

  private accountOf(run: RunTrack): string | undefined {
    return run.label === 'broadcast' ? this.state.accounts.smtp : this.state.accounts.webhook;
  }

  private sequenceLine(): string {
    const head = `${'sequence'.padEnd(9)} ${'Trial onboarding'.padEnd(22)}`;
    if (!this.state.enrollments) return `${head} ${color.yellow('no enrollments yet (see above)')}`;
    const steps = this.sinks.webhook.stepsByCampaign.get(this.state.campaigns.sequence ?? '');
    const sent = [1, 2, 3].map((s) => `${s}: ${fmt(steps?.get(s) ?? 0)}`).join(' · ');
    const e = this.enrollments;
    const states =
      e === undefined
        ? '…'
        : e === 'unavailable'
          ? `${fmt(this.state.enrollments.enrolled + this.state.enrollments.already_enrolled)} enrolled`
          : ENROLLMENT_STATUSES.filter((s) => e[s] > 0 || s === 'active')
              .map((s) => `${fmt(e[s])} ${s}`)
              .join(' · ');
    return `${head} ${states}  │  steps sent ${sent}`;
  }

  /** Not a terminal: a line per run every 5 s while something moves, and whenever a run finishes. */
  private plain(lines: string[], now: number): void {
    const text = lines.join('\n');
    if (text === this.lastPlainText || now - this.lastPlain < 5_000) return;
    this.lastPlain = now;
    this.lastPlainText = text;
    for (const line of lines) this.display.log(`  ${stripColours(line)}`);
  }
}

function track(label: string, name: string, id: string): RunTrack {
  return { label, name, id, samples: [], announced: false, quotaAnnounced: false };
}

function duration(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

function clock(iso: string): string {
  return new Date(iso).toTimeString().slice(0, 5);
}
