import { StringDecoder } from 'node:string_decoder';
import { ImportFormatError } from '../errors';
import { findJsonTextProblem, jsonTextMessage } from '../json-text';
import type { RawImportRow } from './import-row';

/**
 * Reads a JSON array from a byte stream one element at a time, never holding the whole body:
 * it tracks strings and nesting depth to find where each element ends, then JSON.parses just
 * that element. An element that is not valid JSON, that nests arrays and objects deeper than
 * `maxDepth` (counted from the element itself, as for a single contact's body; found while
 * scanning, so never parsed), or that escapes a string Postgres cannot store, becomes a row error;
 * a body that is not an array (or is cut short) is an ImportFormatError.
 */
export async function* readJsonArray(
  body: AsyncIterable<Buffer | string>,
  options: { maxDepth: number },
): AsyncGenerator<RawImportRow> {
  const { maxDepth } = options;
  const decoder = new StringDecoder('utf8');
  let state = 'start' as 'start' | 'before-value' | 'after-value' | 'in-value' | 'done';
  let depth = 0;
  let tooDeep = false;
  let inString = false;
  let escaped = false;
  let pieces: string[] = [];
  let row = 0;
  let sawBom = false;

  const finishValue = (text: string): RawImportRow => {
    row += 1;
    // Only rows the scan saw nest too deep, or with \u escapes (a NUL or a lone surrogate needs one), are read twice.
    const found = tooDeep || text.includes('\\u') ? findJsonTextProblem(text, maxDepth) : undefined;
    tooDeep = false;
    if (found) return { row, error: { field: found.path, message: jsonTextMessage(found.kind, maxDepth) } };
    try {
      return { row, value: JSON.parse(text) as unknown };
    } catch {
      return { row, error: { field: '', message: 'is not valid JSON' } };
    }
  };

  for await (const chunk of body) {
    let text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
    if (!sawBom && text.length > 0) {
      sawBom = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (state === 'in-value') {
        if (inString) {
          if (escaped) escaped = false;
          else if (c === 0x5c) escaped = true;
          else if (c === 0x22) inString = false;
          continue;
        }
        if (c === 0x22) inString = true;
        else if (c === 0x7b || c === 0x5b) {
          if (++depth > maxDepth) tooDeep = true;
        } else if (c === 0x7d || c === 0x5d) {
          if (depth === 0) {
            // `]` closing the top-level array right after a scalar element.
            pieces.push(text.slice(start, i));
            yield finishValue(pieces.join(''));
            pieces = [];
            state = c === 0x5d ? 'done' : fail('unbalanced "}" in the JSON array');
            continue;
          }
          depth--;
          if (depth === 0) {
            pieces.push(text.slice(start, i + 1));
            yield finishValue(pieces.join(''));
            pieces = [];
            state = 'after-value';
          }
        } else if (c === 0x2c && depth === 0) {
          pieces.push(text.slice(start, i));
          yield finishValue(pieces.join(''));
          pieces = [];
          state = 'before-value';
        }
        continue;
      }
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
      switch (state) {
        case 'start':
          if (c !== 0x5b) fail('the body must be a JSON array of contacts');
          state = 'before-value';
          break;
        case 'before-value':
          if (c === 0x5d && row === 0) {
            state = 'done';
            break;
          }
          if (c === 0x5d || c === 0x2c) fail(`a value is missing after element ${row}`);
          state = 'in-value';
          start = i;
          depth = 0;
          if (c === 0x22) inString = true;
          else if (c === 0x7b || c === 0x5b) depth = 1;
          break;
        case 'after-value':
          if (c === 0x2c) state = 'before-value';
          else if (c === 0x5d) state = 'done';
          else fail(`"," or "]" expected after element ${row}`);
          break;
        case 'done':
          fail('nothing may follow the closing "]"');
      }
    }
    if (state === 'in-value') pieces.push(text.slice(start));
  }
  if ((state as string) !== 'done')
    fail(
      (state as string) === 'start' ? 'the body is empty: send a JSON array' : 'the JSON array is cut short',
    );
}

function fail(message: string): never {
  throw new ImportFormatError(`Malformed JSON: ${message}.`, [{ field: '', message }], 'json');
}
