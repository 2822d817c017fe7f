import { Injectable, type Type } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { OnJob } from './job-handler.decorator';
import { HandlerRegistrationError, JobHandlerRegistry } from './job-handler.registry';
import type { QueueName } from './jobs';

@Injectable()
class PingHandler {
  @OnJob('system.ping')
  ping(): Promise<string> {
    return Promise.resolve('first');
  }
}

@Injectable()
class SecondPingHandler {
  @OnJob('system.ping')
  alsoPing(): Promise<string> {
    return Promise.resolve('second');
  }
}

async function boot(providers: Type[], consumed: QueueName[]): Promise<JobHandlerRegistry> {
  const moduleRef = await Test.createTestingModule({
    imports: [DiscoveryModule],
    providers: [JobHandlerRegistry, ...providers],
  }).compile();
  const registry = moduleRef.get(JobHandlerRegistry);
  registry.expect(consumed);
  await moduleRef.init();
  return registry;
}

describe('JobHandlerRegistry', () => {
  it('finds the one handler of each job', async () => {
    const registry = await boot([PingHandler], ['system']);
    await expect(registry.get('system.ping')?.({}, {} as never)).resolves.toBe('first');
  });

  it('refuses to boot when a job has two handlers', async () => {
    await expect(boot([PingHandler, SecondPingHandler], ['system'])).rejects.toThrow(
      new HandlerRegistrationError(
        'job handlers are wrong:\n  - job "system.ping" has 2 handlers: PingHandler.ping, SecondPingHandler.alsoPing',
      ),
    );
  });

  it('refuses to boot when a consumed queue has a job without a handler', async () => {
    await expect(boot([], ['system'])).rejects.toThrow(
      /job "system.ping" on consumed queue "system" has no @OnJob handler/,
    );
  });

  it('does not require handlers for queues this process does not consume', async () => {
    const registry = await boot([], []);
    expect(registry.get('system.ping')).toBeUndefined();
  });
});
