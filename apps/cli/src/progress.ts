import type { TextSink } from './output';

const BYTE_UNITS = ['KiB', 'MiB', 'GiB', 'TiB'];

/** `512 B`, `1.5 KiB`, `12.3 MiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes;
  let unit = -1;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${BYTE_UNITS[unit]}`;
}

/** `<1s`, `45s`, `3m05s`, `2h07m`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 1) return '<1s';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** `0.4/s`, `45/s`, `1.2k/s`. */
export function formatRate(perSecond: number): string {
  if (perSecond >= 1000) return `${(perSecond / 1000).toFixed(1)}k/s`;
  if (perSecond >= 10) return `${Math.round(perSecond)}/s`;
  return `${perSecond.toFixed(1)}/s`;
}

/** `[#######-----------------]`: `fraction` (clamped to 0…1) of `width` cells. */
export function progressBar(fraction: number, width = 24): string {
  const filled = Math.round(clamp(fraction) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

/** `42%` (floored, so 100% means done). */
export function formatPercent(fraction: number): string {
  return `${Math.floor(clamp(fraction) * 100)}%`;
}

function clamp(fraction: number): number {
  return Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
}

export interface ProgressLineOptions {
  /** A terminal: one line redrawn in place. Otherwise plain lines, at most one per `intervalMs`. */
  tty: boolean;
  intervalMs?: number;
  now?: () => number;
}

const TTY_REDRAW_MS = 100;

/**
 * A progress display on stderr: on a terminal a single line redrawn with `\r`; in a log (CI,
 * cron, a pipe) a plain line now and then, so the log stays readable.
 */
export class ProgressLine {
  private readonly intervalMs: number;
  private readonly now: () => number;
  private last = Number.NEGATIVE_INFINITY;
  private lastText: string | undefined;
  private drawn = false;

  constructor(
    private readonly sink: TextSink & { readonly columns?: number },
    private readonly options: ProgressLineOptions,
  ) {
    this.intervalMs = options.tty ? TTY_REDRAW_MS : (options.intervalMs ?? 2000);
    this.now = options.now ?? Date.now;
  }

  update(text: string): void {
    const now = this.now();
    if (now - this.last < this.intervalMs) return;
    this.last = now;
    this.draw(text);
  }

  /** The last state, always shown (once); ends the line. */
  finish(text: string): void {
    if (this.options.tty || text !== this.lastText) this.draw(text);
    if (this.options.tty) this.sink.write('\n');
    this.drawn = false;
  }

  private draw(text: string): void {
    this.lastText = text;
    if (!this.options.tty) {
      this.sink.write(`${text}\n`);
      return;
    }
    // Wider than the terminal, the line would wrap and `\r` would no longer return to its start.
    const columns = this.sink.columns;
    const fitted = columns && text.length >= columns ? text.slice(0, columns - 1) : text;
    this.sink.write(`\r${fitted}\x1b[K`);
    this.drawn = true;
  }

  /** Ends a line left open on a terminal, before something else is written. */
  interrupt(): void {
    if (this.drawn) this.sink.write('\n');
    this.drawn = false;
  }
}
