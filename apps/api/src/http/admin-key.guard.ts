import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import type { Request } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';

/** Platform admin routes: `Authorization: Bearer <HERALD_ADMIN_KEY>` or `X-API-Key`, compared in constant time. */
@Injectable()
export class AdminKeyGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(@Inject(HERALD_CONFIG) config: HeraldConfig) {
    this.expected = digest(config.security.adminKey.reveal());
  }

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    const presented = presentedKey(req);
    if (presented === undefined || !timingSafeEqual(digest(presented), this.expected)) {
      throw new UnauthorizedException('A valid platform admin key is required');
    }
    return true;
  }
}

export function presentedKey(req: Request): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && auth.startsWith('Bearer ')) return auth.slice(7).trim();
  const header = req.headers['x-api-key'];
  return typeof header === 'string' ? header.trim() : undefined;
}

/** Hashing first makes the comparison constant-time whatever the presented length. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
