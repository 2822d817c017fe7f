/**
 * The dev script's terminal: log lines, and below them a block of live lines (progress bars)
 * redrawn in place when stdout is a terminal. Elsewhere (a pipe, a CI log, --verbose where the
 * fleet's logs share the terminal) there is no block: the caller prints plain lines instead.
 */
export class Display {
  private block: string[] = [];
  private drawn = 0;

  constructor(
    private readonly out: NodeJS.WriteStream,
    /** Redraw in place (a terminal, nothing else writing to it). */
    readonly live: boolean,
    /** Keep colour codes (a terminal); stripped for pipes and files. */
    private readonly colours: boolean,
  ) {}

  /** A line above the live block (the block is redrawn under it). */
  log(line: string): void {
    if (!this.live) {
      this.out.write(`${this.colours ? line : stripColours(line)}\n`);
      return;
    }
    this.out.write(`${this.clear()}${line}\n${this.render()}`);
  }

  /** Replaces the live block (no-op when not live). */
  setBlock(lines: string[]): void {
    if (!this.live) return;
    this.block = lines;
    this.out.write(`${this.clear()}${this.render()}`);
  }

  /** Leaves the block on screen as it is and stops drawing it. */
  freeze(): void {
    this.drawn = 0;
    this.block = [];
  }

  private clear(): string {
    // Up to the block's first line, then clear to the end of the screen.
    return this.drawn > 0 ? `\x1b[${this.drawn}F\x1b[J` : '';
  }

  private render(): string {
    const width = this.out.columns || 120;
    this.drawn = this.block.length;
    return this.block.map((l) => `${truncate(l, width - 1)}\n`).join('');
  }
}

/** Colour codes (built from the ESC character: a control character in a regex literal reads as a typo). */
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

export function stripColours(text: string): string {
  return text.replace(ANSI, '');
}

export function visibleLength(text: string): number {
  return stripColours(text).length;
}

/** Cuts a line with colour codes to `width` visible characters (a wrapped line breaks the redraw). */
function truncate(text: string, width: number): string {
  if (visibleLength(text) <= width) return text;
  let visible = 0;
  let out = '';
  for (let i = 0; i < text.length; i += 1) {
    if (text[i] === '\x1b') {
      const end = text.indexOf('m', i);
      out += text.slice(i, end + 1);
      i = end;
      continue;
    }
    if (visible >= width - 1) break;
    out += text[i];
    visible += 1;
  }
  return `${out}…\x1b[0m`;
}

export const color = {
  green: (s: string) => `\x1b[32m${s}\x1b[0m`,
  yellow: (s: string) => `\x1b[33m${s}\x1b[0m`,
  red: (s: string) => `\x1b[31m${s}\x1b[0m`,
  dim: (s: string) => `\x1b[2m${s}\x1b[0m`,
  bold: (s: string) => `\x1b[1m${s}\x1b[0m`,
  cyan: (s: string) => `\x1b[36m${s}\x1b[0m`,
};
