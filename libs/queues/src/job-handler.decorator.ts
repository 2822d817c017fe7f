import { SetMetadata } from '@nestjs/common';
import type { Job } from 'bullmq';
import type { JobName, JobPayloads } from './jobs';

export const JOB_HANDLER = Symbol('herald:job-handler');

/** The signature a handler method has for job N. */
export type JobHandlerFn<N extends JobName> = (
  payload: JobPayloads[N],
  job: Job,
  token?: string,
) => Promise<unknown>;

/**
 * Marks a provider method as the handler of one job name. The worker refuses to boot when a
 * job of a queue it consumes has no handler, or two.
 */
export const OnJob = (name: JobName): MethodDecorator => SetMetadata(JOB_HANDLER, name);
