import { createParamDecorator, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { hasScope, type Principal, type TenantPrincipal } from '@herald/tenants';
import { RequestContext, routeAccessOf, type RouteAccess } from '@herald/telemetry';
import type { Request } from 'express';
import { ProblemException } from './problem';

export type AuthenticatedRequest = Request & { principal?: Principal };

/**
 * Who may call an API route: the platform admin key, a tenant key with at least this scope, or
 * `operator`: a tenant key with the admin scope (for its own tenant) or the platform admin key
 * (for the whole fleet) — the handler reads which with `@Caller()`. Declared once, in
 * `@ApiRoute({ access })`.
 */
export type Access = Exclude<RouteAccess, 'probe' | 'ops'>;

/**
 * Decides every request from the matched handler's declared access — never from the path: the
 * same check whatever the spelling that reached the handler. Keys are identified by the
 * authentication middleware; a route that needs one and finds none is refused here (fail
 * closed), whichever middleware did or did not run. A handler with no declaration cannot
 * boot (RouteDeclarationCheck) and is refused here too.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const access = routeAccessOf(this.reflector, context);
    // `public`: the handler checks the credential it is given (console sign-in).
    if (access === 'probe' || access === 'ops' || access === 'public') return true;
    const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
    if (!principal) throw ProblemException.of('unauthorized', 'An API key is required.');
    if (principal.kind === 'tenant') RequestContext.assign({ tenant_id: principal.tenantId });
    if (access === undefined || access === 'platform') {
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
