import { Injectable } from '@nestjs/common';
import { RouteDeclarationCheck } from '@herald/telemetry';

interface RouteEntry {
  pattern: RegExp;
  method: string;
}

/**
 * The (path pattern, method) pairs the controllers declare — the list the boot-time declaration
 * check already read from Nest's metadata — as patterns: what the problem filter needs to answer
 * 405 with an Allow header for a known path.
 */
@Injectable()
export class RouteTable {
  private routes: RouteEntry[] | undefined;

  constructor(private readonly declarations: RouteDeclarationCheck) {}

  allowedMethods(path: string): string[] {
    const methods = new Set<string>();
    for (const route of this.table()) if (route.pattern.test(path)) methods.add(route.method);
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  }

  private table(): RouteEntry[] {
    this.routes ??= this.declarations
      .routes()
      .map((route) => ({ pattern: toPattern(route.path), method: route.method }));
    return this.routes;
  }
}

/** `/v1/contacts/:id` → a strict, case-sensitive pattern, as routing is. */
function toPattern(path: string): RegExp {
  const segments = path
    .split('/')
    .filter(Boolean)
    .map((segment) =>
      segment.startsWith(':')
        ? '[^/]+'
        : segment.startsWith('*')
          ? '.*'
          : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    );
  return new RegExp(`^/${segments.join('/')}$`);
}
