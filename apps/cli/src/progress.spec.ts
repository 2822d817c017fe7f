import {
  formatBytes,
  formatDuration,
  formatPercent,
  formatRate,
  progressBar,
  ProgressLine,
} from './progress';

describe('formatting', () => {
  it('bytes in binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(12.3 * 1024 * 1024)).toBe('12.3 MiB');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.0 GiB');
  });

  it('durations', () => {
    expect(formatDuration(0.4)).toBe('<1s');
    expect(formatDuration(45)).toBe('45s');
    expect(formatDuration(185)).toBe('3m05s');
    expect(formatDuration(2 * 3600 + 7 * 60 + 30)).toBe('2h07m');
    expect(formatDuration(Number.NaN)).toBe('?');
  });

  it('rates', () => {
    expect(formatRate(0.42)).toBe('0.4/s');
    expect(formatRate(45.4)).toBe('45/s');
    expect(formatRate(1234)).toBe('1.2k/s');
  });

  it('a bar and a percentage, clamped', () => {
    expect(progressBar(0.5, 10)).toBe('[#####-----]');
    expect(progressBar(0, 4)).toBe('[----]');
    expect(progressBar(2, 4)).toBe('[####]');
    expect(progressBar(Number.NaN, 4)).toBe('[----]');
    expect(formatPercent(0.999)).toBe('99%');
    expect(formatPercent(1)).toBe('100%');
  });
});

class Sink {
  text = '';
  constructor(readonly columns?: number) {}
  write(text: string): boolean {
    this.text += text;
    return true;
  }
}

describe('ProgressLine', () => {
  it('on a terminal, redraws one line in place and ends it when finished', () => {
    let now = 0;
    const sink = new Sink();
    const line = new ProgressLine(sink, { tty: true, now: () => now });
    line.update('10%');
    now += 50;
    line.update('20%'); // within the redraw interval: skipped
    now += 100;
    line.update('30%');
    line.finish('100%');
    expect(sink.text).toBe('\r10%\x1b[K\r30%\x1b[K\r100%\x1b[K\n');
  });

  it('cuts a line wider than the terminal, so \\r still returns to its start', () => {
    const sink = new Sink(10);
    new ProgressLine(sink, { tty: true }).update('0123456789abcdef');
    expect(sink.text).toBe('\r012345678\x1b[K');
  });

  it('in a log, writes a plain line at most once per interval, and the final one once', () => {
    let now = 0;
    const sink = new Sink();
    const line = new ProgressLine(sink, { tty: false, intervalMs: 2000, now: () => now });
    line.update('10%');
    now += 1000;
    line.update('50%');
    now += 1500;
    line.update('100%');
    line.finish('100%');
    expect(sink.text).toBe('10%\n100%\n');
  });

  it('interrupt ends a line left open on a terminal, and only then', () => {
    const tty = new Sink();
    const line = new ProgressLine(tty, { tty: true });
    line.update('42%');
    line.interrupt();
    line.interrupt();
    expect(tty.text).toBe('\r42%\x1b[K\n');
    const log = new Sink();
    const plain = new ProgressLine(log, { tty: false });
    plain.update('42%');
    plain.interrupt();
    expect(log.text).toBe('42%\n');
  });
});
