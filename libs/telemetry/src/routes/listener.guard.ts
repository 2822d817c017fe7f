import { Injectable, NotFoundException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { listenersOf, routeAccessOf } from './route-access';
import { ServerPorts } from './server-ports';

/**
 * Serves each route only on the listener(s) its declared access allows: ops routes never on the
 * public port, API routes never on the ops port. A route on the wrong listener does not exist
 * there (404), so nothing about it leaks. Decided from the matched handler, not the path.
 */
@Injectable()
export class ListenerGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly ports: ServerPorts,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest<Request>();
    const access = routeAccessOf(this.reflector, context);
    // Undeclared routes cannot boot (RouteDeclarationCheck); refuse them here too, fail closed.
    const served = access ? listenersOf(access)[this.ports.listenerOf(req)] : false;
    if (!served) throw new NotFoundException(`No route ${req.method} ${req.path}`);
    return true;
  }
}
