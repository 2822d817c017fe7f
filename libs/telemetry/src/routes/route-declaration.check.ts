import { Injectable, RequestMethod, type OnModuleInit } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { ROUTE_ACCESS, ROUTE_ACCESS_VALUES, type RouteAccess } from './route-access';

/** One declared HTTP handler: its controller and method, HTTP method and path, and declared access. */
export interface DeclaredRoute {
  controller: string;
  handler: string;
  method: string;
  /** Express-style: `/v1/contacts/:id`. */
  path: string;
  access: RouteAccess;
}

/**
 * Refuses to boot when a controller method with a route has no access declaration (or an
 * unknown one): access is part of a route's definition, never a default.
 */
@Injectable()
export class RouteDeclarationCheck implements OnModuleInit {
  private declared: DeclaredRoute[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  onModuleInit(): void {
    const undeclared: string[] = [];
    const declared: DeclaredRoute[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      const metatype = wrapper.metatype as (abstract new (...args: never[]) => object) | null;
      if (!metatype) continue;
      const base = String(Reflect.getMetadata(PATH_METADATA, metatype) ?? '');
      const prototype = metatype.prototype as Record<string, unknown>;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const handler = prototype[name];
        if (typeof handler !== 'function') continue;
        const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
        if (path === undefined) continue;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        const access = this.reflector.get<RouteAccess | undefined>(ROUTE_ACCESS, handler);
        if (access === undefined || !ROUTE_ACCESS_VALUES.includes(access)) {
          undeclared.push(`${metatype.name}.${name}`);
          continue;
        }
        declared.push({
          controller: metatype.name,
          handler: name,
          method: RequestMethod[method ?? RequestMethod.GET],
          path: joinPath(base, path),
          access,
        });
      }
    }
    if (undeclared.length > 0) {
      throw new Error(
        `Routes without an access declaration (use @ApiRoute({ access }) or @DeclareAccess): ${undeclared.join(', ')}`,
      );
    }
    this.declared = declared;
  }

  /** Every route and its access, as checked at boot. */
  routes(): readonly DeclaredRoute[] {
    return this.declared;
  }
}

function joinPath(base: string, path: string): string {
  const joined = [base, path]
    .flatMap((p) => p.split('/'))
    .filter(Boolean)
    .join('/');
  return `/${joined}`;
}
