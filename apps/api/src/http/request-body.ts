import type { Request } from 'express';
import { Transform, type TransformCallback } from 'node:stream';
import { createHash, type Hash } from 'node:crypto';
import { ProblemException } from './problem';

export interface MediaType {
  type: string;
  charset: string | undefined;
}

/** `application/json; charset=utf-8` → {type: 'application/json', charset: 'utf-8'}; undefined when absent or garbled. */
export function mediaType(header: string | undefined): MediaType | undefined {
  if (!header) return undefined;
  const [type, ...params] = header.split(';');
  const name = type!.trim().toLowerCase();
  if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(name)) return undefined;
  let charset: string | undefined;
  for (const param of params) {
    const [key, value] = param.split('=');
    if (key?.trim().toLowerCase() === 'charset' && value)
      charset = value.trim().replace(/^"|"$/g, '').toLowerCase();
  }
  return { type: name, charset };
}

export function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? '0') > 0;
}

/** 415 unless the body is one of `accepted` (utf-8, no content coding). */
export function requireMediaType(req: Request, accepted: readonly string[]): MediaType {
  const media = mediaType(req.headers['content-type']);
  const ok =
    media &&
    (accepted.includes(media.type) ||
      (accepted.includes('application/json') && media.type.endsWith('+json')));
  if (!ok) {
    throw ProblemException.of(
      'unsupported-media-type',
      `Send the body as ${accepted.join(' or ')}${media ? `, not ${media.type}` : ' (Content-Type is missing)'}.`,
      [{ field: 'Content-Type', message: `must be ${accepted.join(' or ')}` }],
    );
  }
  if (media.charset && media.charset !== 'utf-8' && media.charset !== 'utf8') {
    throw ProblemException.of('unsupported-media-type', 'Bodies must be UTF-8.', [
      { field: 'Content-Type', message: 'charset must be utf-8' },
    ]);
  }
  const encoding = req.headers['content-encoding'];
  if (encoding && encoding.toLowerCase() !== 'identity') {
    throw ProblemException.of('unsupported-media-type', 'Compressed bodies are not accepted.', [
      { field: 'Content-Encoding', message: 'must be identity (or absent)' },
    ]);
  }
  return media;
}

export function tooLarge(limit: number): ProblemException {
  return ProblemException.of(
    'payload-too-large',
    `The body is larger than the ${limit} bytes this route accepts.`,
    [],
    {
      Connection: 'close',
    },
  );
}

/** 413 at once when Content-Length already says the body is too large. */
export function checkDeclaredLength(req: Request, limit: number): void {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
}

/** The whole body as text, refusing (413) past `limit` bytes. */
export async function readText(req: Request, limit: number): Promise<string> {
  checkDeclaredLength(req, limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Passes the body through while counting (413 past `limit`) and hashing it (for idempotency
 * fingerprints), so a streamed body is never held whole.
 */
export class MeteredBody extends Transform {
  private size = 0;
  private readonly hash: Hash = createHash('sha256');

  constructor(
    private readonly limit: number,
    seed: string,
  ) {
    super();
    this.hash.update(seed);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.limit) {
      callback(tooLarge(this.limit));
      return;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }

  get bytes(): number {
    return this.size;
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}
