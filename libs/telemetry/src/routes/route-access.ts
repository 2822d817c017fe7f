import { SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';

/**
 * Who may call a route, declared once on its handler and read from the matched handler at
 * request time — never from how the path was spelled.
 *
 * - `probe`: liveness and readiness; anyone, on the public and the ops listener;
 * - `ops`: operators' scrape and internal endpoints; the ops listener only, no key;
 * - `platform`: the platform admin key only;
 * - `operator`: a tenant key with the admin scope (its own tenant) or the platform admin key;
 * - `read` | `write` | `admin`: a tenant key with at least this scope;
 * - `public`: the public listener, no key asked before the handler: the handler checks the
 *   credential it is given (console sign-in: a key in the body, a one-time link) or the session.
 */
export type RouteAccess = 'probe' | 'ops' | 'platform' | 'operator' | 'read' | 'write' | 'admin' | 'public';

export const ROUTE_ACCESS_VALUES: readonly RouteAccess[] = [
  'probe',
  'ops',
  'platform',
  'operator',
  'read',
  'write',
  'admin',
  'public',
];

export const ROUTE_ACCESS = 'herald:route-access';

/** Declares a handler's access (API routes get it from `@ApiRoute({ access })`). */
export const DeclareAccess = (access: RouteAccess): MethodDecorator => SetMetadata(ROUTE_ACCESS, access);

/** The matched handler's declared access; undefined only for a route the boot check would refuse. */
export function routeAccessOf(reflector: Reflector, context: ExecutionContext): RouteAccess | undefined {
  return reflector.get<RouteAccess | undefined>(ROUTE_ACCESS, context.getHandler());
}

/** Whether a route is served on the public listener, the ops listener, or both. */
export function listenersOf(access: RouteAccess): { public: boolean; ops: boolean } {
  if (access === 'probe') return { public: true, ops: true };
  if (access === 'ops') return { public: false, ops: true };
  return { public: true, ops: false };
}
