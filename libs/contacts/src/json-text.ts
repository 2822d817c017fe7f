/**
 * What in a JSON text would break what reads it next: containers nested deeper than allowed
 * (JSON.parse builds them, but zod, JSON.stringify, Postgres and any walk over the value recurse
 * and overflow the stack), or a string Postgres cannot store (U+0000 in text or jsonb; an unpaired
 * UTF-16 surrogate in jsonb): each of those used to end in a 500.
 */
export type JsonTextProblemKind = 'too-deep' | 'nul' | 'lone-surrogate';

export interface JsonTextProblem {
  kind: JsonTextProblemKind;
  /**
   * Where, as field errors name fields (`attributes.a.0.b`): the too-deep container or the string
   * (a key's own path when it is the key); '' is the text's top value.
   */
  path: string;
}

const MAX_PATH_CHARS = 200;
const MAX_KEY_CHARS = 64;

interface Frame {
  array: boolean;
  /** The array index the scan is at, for an array. */
  index: number;
  /** Where the current key's raw text is, for an object (decoded only for the answer). */
  keyStart: number;
  keyEnd: number;
}

/**
 * The first such problem, found without parsing: one pass over the characters that reads string
 * contents only for their escapes and surrogates, and counts `[`/`{` against `]`/`}`. No recursion
 * and nothing built but `maxDepth` frames, so it is safe on any text: run it before JSON.parse.
 * It does not validate: text that is not JSON is left for JSON.parse to refuse.
 * Hand-written because the JSON libraries installed check depth only while (or after) building the value.
 */
export function findJsonTextProblem(text: string, maxDepth: number): JsonTextProblem | undefined {
  const frames: Frame[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const start = i + 1;
      const { end, bad } = scanString(text, start);
      i = end;
      if (expectKey) {
        const top = frames[frames.length - 1]!;
        top.keyStart = start;
        top.keyEnd = end;
        expectKey = false;
      }
      if (bad) return { kind: bad, path: pathOf(text, frames) };
    } else if (c === 0x7b || c === 0x5b) {
      if (frames.length === maxDepth) return { kind: 'too-deep', path: pathOf(text, frames) };
      frames.push({ array: c === 0x5b, index: 0, keyStart: i, keyEnd: i });
      expectKey = c === 0x7b;
    } else if (c === 0x7d || c === 0x5d) {
      frames.pop();
      expectKey = false;
    } else if (c === 0x2c) {
      const top = frames[frames.length - 1];
      if (top?.array) top.index += 1;
      expectKey = top !== undefined && !top.array;
    }
  }
  return undefined;
}

/** The field error's message for a problem (`maxDepth` as the caller counts it). */
export function jsonTextMessage(kind: JsonTextProblemKind, maxDepth: number): string {
  switch (kind) {
    case 'too-deep':
      return `is nested deeper than ${maxDepth} levels of arrays and objects`;
    case 'nul':
      return 'must not contain the NUL character (\\u0000)';
    case 'lone-surrogate':
      return 'must not contain an unpaired UTF-16 surrogate (\\uD800-\\uDFFF)';
  }
}

/**
 * Reads a string whose contents start at `start`: where its closing quote is (or the text's end),
 * and whether it holds a NUL or an unpaired surrogate, raw or escaped.
 */
function scanString(text: string, start: number): { end: number; bad: JsonTextProblemKind | undefined } {
  let bad: JsonTextProblemKind | undefined;
  // The code unit before was a high surrogate: this one must be a low one.
  let wantLow = false;
  let i = start;
  for (; i < text.length; i++) {
    let unit = text.charCodeAt(i);
    if (unit === 0x22) break;
    if (unit === 0x5c) {
      i++;
      // -1: a short escape (\n, \", …), which is never a NUL or a surrogate.
      unit = text.charCodeAt(i) === 0x75 ? hexUnit(text, i + 1) : -1;
      if (unit >= 0) i += 4;
    }
    if (bad) continue;
    const low = unit >= 0xdc00 && unit <= 0xdfff;
    if (unit === 0) bad = 'nul';
    else if (wantLow !== low) bad = 'lone-surrogate';
    wantLow = unit >= 0xd800 && unit <= 0xdbff;
  }
  return { end: i, bad: bad ?? (wantLow ? 'lone-surrogate' : undefined) };
}

/** The code unit four hex digits at `at` spell, or -1. */
function hexUnit(text: string, at: number): number {
  let unit = 0;
  for (let k = at; k < at + 4; k++) {
    const digit = parseInt(text.charAt(k), 16);
    if (Number.isNaN(digit)) return -1;
    unit = unit * 16 + digit;
  }
  return unit;
}

function decodeKey(raw: string): string {
  let key = raw;
  try {
    key = JSON.parse(`"${raw}"`) as string;
  } catch {
    // A cut escape or a control character: show the key as written.
  }
  return key.length > MAX_KEY_CHARS ? `${key.slice(0, MAX_KEY_CHARS)}…` : key;
}

/** `a.0.b`, cut after MAX_PATH_CHARS at a segment boundary (with `…`), since the path can be 32 long keys. */
function pathOf(text: string, frames: readonly Frame[]): string {
  const segments: string[] = [];
  let length = 0;
  for (const frame of frames) {
    const segment = frame.array
      ? String(frame.index)
      : decodeKey(text.slice(frame.keyStart, Math.min(frame.keyEnd, frame.keyStart + 4 * MAX_KEY_CHARS)));
    length += segment.length + 1;
    if (length > MAX_PATH_CHARS + 1) return [...segments, '…'].join('.');
    segments.push(segment);
  }
  return segments.join('.');
}
