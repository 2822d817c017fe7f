import {
  createParamDecorator,
  Injectable,
  SetMetadata,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { ApiKeyScope } from '@herald/persistence';
import { hasScope, type Principal, type TenantPrincipal } from '@herald/tenants';
import { RequestContext } from '@herald/telemetry';
import type { Request } from 'express';
import { ProblemException } from './problem';

export type AuthenticatedRequest = Request & { principal?: Principal };

/**
 * Who may call a route: the platform admin key, a tenant key with at least this scope, or
 * `operator`: a tenant key with the admin scope (for its own tenant) or the platform admin key
 * (for the whole fleet) — the handler reads which with `@Caller()`.
 */
export type Access = 'platform' | 'operator' | ApiKeyScope;
const ACCESS = Symbol('herald:access');

export const RequireAccess = (access: Access) => SetMetadata(ACCESS, access);

/**
 * Every /v1 route is guarded: the authentication middleware has already refused requests
 * without a valid key; this checks the key may call this route. A /v1 route that declares no
 * access is reachable by the platform admin key only (fail closed).
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (!req.path.startsWith('/v1/')) return true;
    const principal = req.principal;
    if (!principal) throw ProblemException.of('unauthorized', 'An API key is required.');
    if (principal.kind === 'tenant') RequestContext.assign({ tenant_id: principal.tenantId });
    const access =
      this.reflector.getAllAndOverride<Access | undefined>(ACCESS, [
        context.getHandler(),
        context.getClass(),
      ]) ?? 'platform';
    if (access === 'platform') {
      if (principal.kind === 'platform') return true;
      throw ProblemException.of('forbidden', 'This route needs the platform admin key.');
    }
    if (access === 'operator' && principal.kind === 'platform') return true;
    if (principal.kind === 'platform') {
      throw ProblemException.of('forbidden', 'The platform admin key has no tenant: use a tenant API key.');
    }
    const scope = access === 'operator' ? 'admin' : access;
    if (!hasScope(principal.scopes, scope)) {
      throw ProblemException.of('forbidden', `This API key lacks the "${scope}" scope this route needs.`);
    }
    return true;
  }
}

/** The authenticated tenant key of a route guarded with a scope. */
export const TenantKey = createParamDecorator((_: unknown, context: ExecutionContext): TenantPrincipal => {
  const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (principal?.kind !== 'tenant')
    throw ProblemException.of('unauthorized', 'A tenant API key is required.');
  return principal;
});

/** The caller of an `operator` route: a tenant key (admin scope) or the platform admin key. */
export const Caller = createParamDecorator((_: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw ProblemException.of('unauthorized', 'An API key is required.');
  return principal;
});
