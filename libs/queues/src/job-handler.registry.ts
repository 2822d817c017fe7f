import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { Job } from 'bullmq';
import { JOB_HANDLER } from './job-handler.decorator';
import { JOB_NAMES, JOBS, type JobName, type QueueName } from './jobs';

type Handler = (payload: unknown, job: Job, token?: string) => Promise<unknown>;

export class HandlerRegistrationError extends Error {
  override name = 'HandlerRegistrationError';
}

/** Finds every @OnJob method at boot and checks each consumed job has exactly one. */
@Injectable()
export class JobHandlerRegistry implements OnApplicationBootstrap {
  private readonly handlers = new Map<JobName, Handler>();
  private consumed: readonly QueueName[] = [];
  private validated = false;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  /** Called by the queues module with the queues this process consumes. */
  expect(queues: readonly QueueName[]): void {
    this.consumed = queues;
  }

  onApplicationBootstrap(): void {
    this.validate();
  }

  /** Discovers handlers once; throws when a consumed job has none or any job has two. */
  validate(): void {
    if (this.validated) return;
    const found = new Map<JobName, string[]>();
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object') continue;
      const prototype = Object.getPrototypeOf(instance) as object | null;
      if (!prototype) continue;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const fn = instance[method];
        if (typeof fn !== 'function') continue;
        const name = this.reflector.get<JobName | undefined>(
          JOB_HANDLER,
          fn as (...args: unknown[]) => unknown,
        );
        if (!name) continue;
        if (!JOB_NAMES.includes(name))
          throw new HandlerRegistrationError(`@OnJob("${name}") names no job in JOBS`);
        found.set(name, [...(found.get(name) ?? []), `${instance.constructor.name}.${method}`]);
        this.handlers.set(name, (fn as Handler).bind(instance));
      }
    }
    const problems: string[] = [];
    for (const name of JOB_NAMES) {
      const where = found.get(name) ?? [];
      if (where.length > 1) problems.push(`job "${name}" has ${where.length} handlers: ${where.join(', ')}`);
      if (where.length === 0 && this.consumed.includes(JOBS[name].queue)) {
        problems.push(`job "${name}" on consumed queue "${JOBS[name].queue}" has no @OnJob handler`);
      }
    }
    if (problems.length > 0)
      throw new HandlerRegistrationError(`job handlers are wrong:\n  - ${problems.join('\n  - ')}`);
    this.validated = true;
  }

  get(name: string): Handler | undefined {
    return this.handlers.get(name as JobName);
  }
}
