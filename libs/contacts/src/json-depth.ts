/** The first array or object that nests too deep. */
export interface JsonDepthViolation {
  /** Its dotted path, as field errors name fields (`attributes.a.0.b`); '' is the text's own top value. */
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
 * Finds the first array or object that sits deeper than `maxDepth` containers in a JSON text,
 * without parsing it: one pass over the characters that skips string contents (and their escapes)
 * and counts `[`/`{` against `]`/`}`. No recursion and nothing built but `maxDepth` frames, so it is
 * safe on any text; run it before JSON.parse, zod, Postgres or any walk that recurses over the
 * value. It does not validate: text that is not JSON is left for JSON.parse to refuse.
 * Hand-written because the JSON libraries installed check depth only while (or after) building the value.
 */
export function findTooDeep(text: string, maxDepth: number): JsonDepthViolation | undefined {
  const frames: Frame[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const start = i + 1;
      i = endOfString(text, start);
      if (expectKey) {
        const top = frames[frames.length - 1]!;
        top.keyStart = start;
        top.keyEnd = i;
        expectKey = false;
      }
    } else if (c === 0x7b || c === 0x5b) {
      if (frames.length === maxDepth) return { path: pathOf(text, frames) };
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

/** The field error's message for a JsonDepthViolation. */
export function tooDeepMessage(maxDepth: number): string {
  return `is nested deeper than ${maxDepth} levels of arrays and objects`;
}

/** The index of the quote that closes a string whose contents start at `start` (or the text's end). */
function endOfString(text: string, start: number): number {
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) i++;
    else if (c === 0x22) return i;
  }
  return text.length;
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
