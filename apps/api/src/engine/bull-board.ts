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
import { presentedKey } from '../http/admin-key.guard';
import { problem, sendProblem } from '../http/problem';

type BoardAdapter = Parameters<typeof createBullBoard>[0]['serverAdapter'];

/** Bull Board's place on the public port (outside /v1: not an API route, not in the OpenAPI document). */
export const BULL_BOARD_PATH = '/admin/queues';

/**
 * Mounts Bull Board behind the platform admin key. It is mounted while the app initialises
 * (after the controllers' routes, before Nest's not-found handler). The key is accepted as
 * `Authorization: Bearer`, `X-API-Key`, or HTTP Basic with the key as password, which a
 * browser remembers for the board's own requests after one prompt.
 */
@Injectable()
export class BullBoardMount implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly moduleRef: ModuleRef,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
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
      platformKeyGate(this.config.security.adminKey.reveal()),
      serverAdapter.getRouter() as Express,
    );
  }
}

/** 401 (with a Basic challenge) unless the request carries the platform admin key; compared in constant time. */
export function platformKeyGate(adminKey: string) {
  const expected = digest(adminKey);
  return (req: Request, res: Response, next: NextFunction): void => {
    const presented = presentedKey(req) ?? basicPassword(req);
    if (presented !== undefined && timingSafeEqual(digest(presented), expected)) {
      next();
      return;
    }
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
