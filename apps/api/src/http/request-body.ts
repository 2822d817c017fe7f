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

/**
 * 408 for a body that stopped arriving: the connection is closed with the answer (what is left
 * of the body will never be read).
 */
export function bodyIdle(idleMs: number): ProblemException {
  return ProblemException.of(
    'request-timeout',
    `The request body sent nothing for ${idleMs} ms; send it without pausing.`,
    [],
    { Connection: 'close' },
  );
}

/**
 * The whole body as text, refusing with 413 past `limit` bytes and with 408 once nothing has
 * arrived for `idleMs`. A refusal stops reading but leaves the socket open, so the problem still
 * reaches the client (its Connection: close ends the exchange).
 */
export function readText(req: Request, limit: number, idleMs: number): Promise<string> {
  checkDeclaredLength(req, limit);
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => stop(bodyIdle(idleMs)), idleMs);
    };
    const stop = (error: Error | null) => {
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', stop).off('close', onClose);
      if (error) {
        req.pause();
        reject(error);
      } else {
        resolve(Buffer.concat(chunks).toString('utf8'));
      }
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        stop(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
      arm();
    };
    const onEnd = () => stop(null);
    const onClose = () => stop(new Error('the client closed the request before its body ended'));
    req.on('data', onData).on('end', onEnd).on('error', stop).on('close', onClose);
    arm();
  });
}

/**
 * The body through a MeteredBody without the piping ever destroying the request: a refusal
 * (413, 408) must leave the socket open for its answer, while a client that goes away fails the
 * reader at once. Up to `readAheadBytes` are read ahead of the reader, so a body that is sent
 * briskly has wholly arrived (`arrived`) long before the reader is done with it.
 */
export function meteredRequest(
  req: Request,
  limit: number,
  seed: string,
  idleMs: number,
  readAheadBytes = 0,
): MeteredBody {
  const body = new MeteredBody(limit, seed, idleMs, readAheadBytes);
  const onClose = () => {
    if (!req.complete) body.destroy(new Error('the client closed the request before its body ended'));
  };
  const onError = (error: Error) => body.destroy(error);
  req.once('close', onClose).once('error', onError);
  body.once('close', () => {
    req.off('close', onClose).off('error', onError);
    if (!req.readableEnded) {
      req.unpipe(body);
      req.pause();
    }
  });
  req.pipe(body);
  return body;
}

/**
 * Passes the body through while counting (413 past `limit`) and hashing it (for idempotency
 * fingerprints) as it arrives, so a streamed body is never held whole. Fails with 408 once the
 * client has sent nothing for `idleMs` while the reader was waiting for it (time the reader spends
 * busy with what it has, the backpressure, is not the client's).
 */
export class MeteredBody extends Transform {
  private size = 0;
  private readonly hash: Hash = createHash('sha256');
  private timer: NodeJS.Timeout | undefined;
  private done = false;
  private fingerprint: string | undefined;

  constructor(
    private readonly limit: number,
    seed: string,
    private readonly idleMs: number,
    readAheadBytes = 0,
  ) {
    super(readAheadBytes > 0 ? { readableHighWaterMark: readAheadBytes } : {});
    this.hash.update(seed);
    this.waiting();
  }

  /** The whole body has arrived (and been counted and hashed); the reader may still be reading it. */
  get arrived(): boolean {
    return this.writableFinished;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    clearTimeout(this.timer);
    this.size += chunk.length;
    if (this.size > this.limit) {
      callback(tooLarge(this.limit));
      return;
    }
    this.hash.update(chunk);
    callback(null, chunk);
    // Room for more: the next chunk is the client's to send.
    if (this.readableLength < this.readableHighWaterMark) this.waiting();
  }

  override _read(size: number): void {
    this.waiting();
    super._read(size);
  }

  override _flush(callback: TransformCallback): void {
    this.done = true;
    clearTimeout(this.timer);
    this.fingerprint = this.hash.digest('hex');
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.done = true;
    clearTimeout(this.timer);
    super._destroy(error, callback);
  }

  get bytes(): number {
    return this.size;
  }

  /** The hash of the seed and the whole body; only once the body has arrived. */
  digest(): string {
    if (this.fingerprint === undefined) throw new Error('the body has not wholly arrived yet');
    return this.fingerprint;
  }

  private waiting(): void {
    if (this.done || this.writableEnded) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.destroy(bodyIdle(this.idleMs)), this.idleMs);
  }
}
