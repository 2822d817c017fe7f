import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { getQueueToken } from '@nestjs/bullmq';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost, ModuleRef } from '@nestjs/core';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import { QUEUE_NAMES } from '@herald/queues';
import type { Queue } from 'bullmq';
import type { Express, NextFunction, Request, Response } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { AuthThrottle, lockoutProblem } from '../http/auth-throttle';
import { problem, sendProblem } from '../http/problem';

type BoardAdapter = Parameters<typeof createBullBoard>[0]['serverAdapter'];

/** Bull Board's place on the public port (outside /v1: not an API route, not in the OpenAPI document). */
export const BULL_BOARD_PATH = '/admin/queues';

/**
 * Mounts Bull Board behind the platform admin key. It is mounted while the app initialises
 * (after the controllers' routes, before Nest's not-found handler). The key is accepted as
 * `Authorization: Bearer`, `X-API-Key`, or HTTP Basic with the key as password, which a
 * browser remembers for the board's own requests after one prompt; so changes must also come
 * from the board's own origin.
 */
@Injectable()
export class BullBoardMount implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly moduleRef: ModuleRef,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
    private readonly throttle: AuthThrottle,
  ) {}

  onModuleInit(): void {
    const serverAdapter = new ExpressAdapter().setBasePath(BULL_BOARD_PATH);
    createBullBoard({
      queues: QUEUE_NAMES.map(
        (name) => new BullMQAdapter(this.moduleRef.get<Queue>(getQueueToken(name), { strict: false })),
      ),
      // @bull-board/express pins its own patch release of @bull-board/api: the same interface,
      // declared twice, which TypeScript cannot unify (private members).
      serverAdapter: serverAdapter as unknown as BoardAdapter,
      options: { uiConfig: { boardTitle: 'Herald queues' } },
    });
    const express = this.adapterHost.httpAdapter.getInstance<Express>();
    express.use(
      BULL_BOARD_PATH,
      sameOriginChanges,
      platformKeyGate(this.config.security.adminKey.reveal(), this.throttle),
      serverAdapter.getRouter() as Express,
    );
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * 403 for a state-changing request (retry, clean, promote, remove…) that is not from the board's
 * own page: a browser remembers the Basic credentials, so another site's form or fetch would
 * otherwise carry them. The board's UI calls its API with same-origin XHRs, which browsers mark
 * `Sec-Fetch-Site: same-origin` and give an `Origin`; a script (curl) must send `Origin` itself.
 */
export function sameOriginChanges(req: Request, res: Response, next: NextFunction): void {
  if (SAFE_METHODS.has(req.method) || isSameOrigin(req)) {
    next();
    return;
  }
  sendProblem(
    res,
    problem(
      'forbidden',
      'Bull Board only accepts changes from its own page: send `Sec-Fetch-Site: same-origin` or an `Origin` equal to this server’s origin.',
    ),
  );
}

/** Fetch metadata decides when the browser sent it (a page cannot forge it); otherwise the Origin must be ours. */
function isSameOrigin(req: Request): boolean {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string') return site === 'same-origin' || site === 'none';
  const origin = req.headers.origin;
  // req.protocol and req.host honour X-Forwarded-Proto/-Host from the proxies TRUST_PROXY names.
  return typeof origin === 'string' && origin.toLowerCase() === `${req.protocol}://${req.host}`.toLowerCase();
}

/**
 * 401 (with a Basic challenge) unless the request carries the platform admin key; compared in
 * constant time. Failures count against the client's address (and a Herald key's prefix) like
 * /v1's do, and a locked-out address gets 429 even with the right key.
 */
export function platformKeyGate(adminKey: string, throttle: AuthThrottle) {
  const expected = digest(adminKey);
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const presented = presentedKey(req) ?? basicPassword(req);
    const attempt = throttle.attemptOf(req, presented);
    const matches = presented !== undefined && timingSafeEqual(digest(presented), expected);
    const lockout =
      matches || presented === undefined
        ? await throttle.check(attempt)
        : await throttle.failUnlessLocked(attempt, 'not_admin_key');
    if (lockout) {
      const { details, headers } = lockoutProblem(lockout);
      sendProblem(res, details, headers);
      return;
    }
    if (matches) {
      next();
      return;
    }
    if (presented === undefined) throttle.missing();
    sendProblem(
      res,
      problem(
        'unauthorized',
        'The platform admin key is required: Authorization: Bearer, X-API-Key, or Basic with the key as password.',
      ),
      { 'WWW-Authenticate': 'Basic realm="herald-admin", charset="UTF-8"' },
    );
  };
}

function basicPassword(req: Request): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth !== 'string' || !/^Basic /i.test(auth)) return undefined;
  const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? undefined : decoded.slice(colon + 1);
}

/** Hashing first makes the comparison constant-time whatever the presented length. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** The key of `Authorization: Bearer` or `X-API-Key`; Basic is read by basicPassword. */
function presentedKey(req: Request): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && auth.startsWith('Bearer ')) return auth.slice(7).trim();
  const header = req.headers['x-api-key'];
  return typeof header === 'string' ? header.trim() : undefined;
}
