import { Injectable, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';

interface RouteEntry {
  pattern: RegExp;
  method: string;
}

/**
 * The (path pattern, method) pairs the controllers declare, read from Nest's metadata once:
 * what the problem filter needs to answer 405 with an Allow header for a known path.
 */
@Injectable()
export class RouteTable {
  private routes: RouteEntry[] | undefined;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  allowedMethods(path: string): string[] {
    const methods = new Set<string>();
    for (const route of this.table()) if (route.pattern.test(path)) methods.add(route.method);
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  }

  private table(): RouteEntry[] {
    if (this.routes) return this.routes;
    const routes: RouteEntry[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      const instance = wrapper.instance as object | undefined;
      if (!instance || !wrapper.metatype) continue;
      const base = String(Reflect.getMetadata(PATH_METADATA, wrapper.metatype) ?? '');
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const handler = (prototype as Record<string, unknown>)[name] as object;
        const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (path === undefined || method === undefined) continue;
        routes.push({ pattern: toPattern(base, path), method: RequestMethod[method] });
      }
    }
    this.routes = routes;
    return routes;
  }
}

function toPattern(base: string, path: string): RegExp {
  const segments = [base, path]
    .flatMap((p) => p.split('/'))
    .filter(Boolean)
    .map((segment) =>
      segment.startsWith(':')
        ? '[^/]+'
        : segment.startsWith('*')
          ? '.*'
          : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    );
  // Strict, as routing is: `/v1/contacts/` is not `/v1/contacts`.
  return new RegExp(`^/${segments.join('/')}$`);
}
