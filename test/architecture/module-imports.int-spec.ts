import 'reflect-metadata';
import type { DynamicModule, LoggerService, Type } from '@nestjs/common';
import { ApplicationConfig, ModulesContainer } from '@nestjs/core';
import type { Module as NestModule } from '@nestjs/core/injector/module.js';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import { Test } from '@nestjs/testing';
import * as appApi from '@herald/app-api';
import * as appBeat from '@herald/app-beat';
import * as appWorker from '@herald/app-worker';
import * as campaigns from '@herald/campaigns';
import * as channels from '@herald/channels';
import { ConfigModule, loadConfig, type HeraldConfig } from '@herald/config';
import * as contacts from '@herald/contacts';
import * as deliveries from '@herald/deliveries';
import * as persistence from '@herald/persistence';
import * as queues from '@herald/queues';
import * as rateLimit from '@herald/rate-limit';
import * as resilience from '@herald/resilience';
import * as sequences from '@herald/sequences';
import * as sourcing from '@herald/sourcing';
import * as telemetry from '@herald/telemetry';
import * as tenants from '@herald/tenants';
import {
  createTestDatabase,
  testEnvironment,
  testRedisPrefix,
  testRedisUrl,
  type TestDatabase,
} from '@herald/testing';
import * as time from '@herald/time';
import { register } from 'prom-client';

/**
 * Closing a module that was built but never initialised makes BullMQ's processors complain that
 * their workers never started: noise, not a finding (a module that cannot be built fails compile()).
 */
const QUIET: LoggerService = { log() {}, error() {}, warn() {} };
import { AppModule as AllAppModule } from '../../apps/all/src/app.module';
import { AppModule as ApiAppModule } from '../../apps/api/src/app.module';
import { AppModule as BeatAppModule } from '../../apps/beat/src/app.module';
import { AppModule as WorkerAppModule } from '../../apps/worker/src/app.module';

/** Every Nest module the libs and apps export: a new one is checked without being listed here. */
const HERALD_MODULES: Type[] = [
  appApi,
  appBeat,
  appWorker,
  campaigns,
  channels,
  contacts,
  deliveries,
  persistence,
  queues,
  rateLimit,
  resilience,
  sequences,
  sourcing,
  telemetry,
  tenants,
  time,
].flatMap((exports) =>
  (Object.values(exports) as unknown[]).filter(
    (value): value is Type => typeof value === 'function' && /Module$/.test(value.name),
  ),
);

/** Modules that only exist configured: how the isolation test builds them. */
const CONFIGURED: Map<Type, () => DynamicModule> = new Map<Type, () => DynamicModule>([
  [
    queues.QueueRoleModule,
    () => queues.QueueRoleModule.forRoot({ consume: [...queues.QUEUE_NAMES], workersComponent: true }),
  ],
  [appWorker.WorkerModule, () => appWorker.WorkerModule.register([...queues.QUEUE_NAMES])],
]);

/**
 * Modules say what they need (issue 16, item 8): apart from the validated config — global on
 * purpose, the one value every module reads — no Herald module is global, each one builds with
 * nothing but the config beside it, and every provider's dependency comes from its own module or
 * from one it imports itself, not from a neighbour's import that happens to be in the graph.
 */
describe('Nest modules declare what they use', () => {
  let database: TestDatabase;
  let config: HeraldConfig;

  beforeAll(async () => {
    database = await createTestDatabase();
    config = loadConfig(
      testEnvironment({
        DATABASE_URL: database.url,
        REDIS_URL: testRedisUrl(),
        QUEUE_PREFIX: testRedisPrefix(),
        LOG_LEVEL: 'silent',
      }),
      { role: 'all' },
    );
  });
  afterAll(() => database.drop());
  // prom-client keeps one process-wide registry; every module built here registers its metrics.
  beforeEach(() => register.clear());

  it('finds the modules of every lib and app', () => {
    const names = HERALD_MODULES.map((m) => m.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'ApiModule',
        'BeatModule',
        'WorkerModule',
        'TelemetryModule',
        'PersistenceModule',
        'QueuesModule',
        'QueueRoleModule',
        'TimeModule',
        'DeliveriesModule',
      ]),
    );
  });

  it.each(HERALD_MODULES.map((m) => [m.name, m] as const))(
    '%s builds with only the config beside it',
    async (_name, module) => {
      const ref = await Test.createTestingModule({
        imports: [ConfigModule.forRoot({ config }), CONFIGURED.get(module)?.() ?? module],
      })
        .setLogger(QUIET)
        .compile();
      await ref.close();
    },
  );

  it('apps/all: no Herald module but the config is global, and each uses only what it imports', async () => {
    const root = AllAppModule.register(config);
    const ref = await Test.createTestingModule({ imports: [root] })
      .setLogger(QUIET)
      .compile();
    try {
      const modules = [...ref.get(ModulesContainer).values()];
      const ours = new Set<unknown>([...HERALD_MODULES, AllAppModule]);
      const isOurs = (m: NestModule) => ours.has(m.metatype);
      expect(modules.filter(isOurs).length).toBeGreaterThan(15);

      expect(
        modules.filter((m) => m.isGlobal && isOurs(m) && m.metatype !== ConfigModule).map((m) => m.name),
      ).toEqual([]);

      const declared = declaredImports(root);
      const problems: string[] = [];
      for (const module of modules.filter(isOurs)) {
        const wrappers: InstanceWrapper[] = [
          ...module.providers.values(),
          ...module.controllers.values(),
          ...module.injectables.values(),
        ];
        for (const wrapper of wrappers.filter((w) => w.host === module)) {
          const dependencies = [
            ...(wrapper.getCtorMetadata() ?? []),
            ...(wrapper.getPropertiesMetadata() ?? []).map((p) => p.wrapper),
          ].filter((d): d is InstanceWrapper => d !== undefined);
          for (const dependency of dependencies) {
            const host = dependency.host!;
            if (!visible(module.metatype, host, declared, ours)) {
              problems.push(
                `${module.name}: ${String(wrapper.name)} uses ${String(dependency.name)} of ${host.name} without importing it`,
              );
            }
          }
        }
      }
      expect(problems).toEqual([]);
    } finally {
      await ref.close();
    }
  });
});

describe('each role composes its root so the listener is checked first', () => {
  let database: TestDatabase;
  let config: HeraldConfig;
  beforeAll(async () => {
    database = await createTestDatabase();
    config = loadConfig(
      testEnvironment({
        DATABASE_URL: database.url,
        REDIS_URL: testRedisUrl(),
        QUEUE_PREFIX: testRedisPrefix(),
        LOG_LEVEL: 'silent',
      }),
      { role: 'all' },
    );
  });
  afterAll(() => database.drop());
  beforeEach(() => register.clear());

  // Global guards run in the order their modules were registered: a feature module's guard (the
  // api's AccessGuard answers 401) must never run before ListenerGuard's 404 on the wrong port.
  it.each([
    ['api', ApiAppModule],
    ['worker', WorkerAppModule],
    ['beat', BeatAppModule],
    ['all', AllAppModule],
  ] as const)('%s: ListenerGuard is the first global guard', async (_role, root) => {
    const ref = await Test.createTestingModule({ imports: [root.register(config)] })
      .setLogger(QUIET)
      .compile();
    try {
      const guards = ref.get(ApplicationConfig).getGlobalGuards();
      expect(guards[0]).toBeInstanceOf(telemetry.ListenerGuard);
    } finally {
      await ref.close();
    }
  });
});

type ImportEntry = Type | DynamicModule;

/**
 * Module class → the module classes it declares as imports, read from the decorators and the
 * dynamic modules themselves (Nest adds every global module to every module's imports at run
 * time, so the container cannot tell a declared import from a global one).
 */
function declaredImports(root: DynamicModule): Map<unknown, Set<unknown>> {
  const map = new Map<unknown, Set<unknown>>();
  const seen = new Set<unknown>();
  const visit = (entry: ImportEntry): void => {
    if (seen.has(entry)) return;
    seen.add(entry);
    const metatype = 'module' in entry ? entry.module : entry;
    const children = [
      ...((Reflect.getMetadata('imports', metatype) as ImportEntry[] | undefined) ?? []),
      ...('module' in entry ? ((entry.imports as ImportEntry[] | undefined) ?? []) : []),
    ].filter((child) => typeof child === 'function' || (typeof child === 'object' && 'module' in child));
    const set = map.get(metatype) ?? new Set<unknown>();
    for (const child of children) set.add('module' in child ? child.module : child);
    map.set(metatype, set);
    children.forEach(visit);
  };
  visit(root);
  return map;
}

/**
 * Where a dependency may come from: the module itself, Nest's core, the config, a Herald module
 * it imports, or a library module behind one of its own imports (TypeORM's DataSource behind
 * PersistenceModule, nestjs-pino behind TelemetryModule) — never from behind another Herald module.
 */
function visible(
  module: unknown,
  host: NestModule,
  declared: Map<unknown, Set<unknown>>,
  ours: Set<unknown>,
): boolean {
  if (host.metatype === module || host.metatype === ConfigModule || host.name === 'InternalCoreModule') {
    return true;
  }
  const behind = (from: unknown, seen: Set<unknown>): boolean => {
    if (from === host.metatype) return true;
    if (seen.has(from)) return false;
    seen.add(from);
    return [...(declared.get(from) ?? [])].some((next) => !ours.has(next) && behind(next, seen));
  };
  return [...(declared.get(module) ?? [])].some((direct) => behind(direct, new Set()));
}
