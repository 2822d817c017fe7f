export { OnJob, type JobHandlerFn } from './job-handler.decorator';
export { HandlerRegistrationError, JobHandlerRegistry } from './job-handler.registry';
export { JobProducer } from './job-producer';
export {
  JOB_NAMES,
  JOB_STATES,
  JOBS,
  QUEUE_NAMES,
  QUEUES,
  type JobEnvelope,
  type JobName,
  type JobState,
  type JobPayloads,
  type QueueName,
} from './jobs';
export { QueueProcessor } from './queue-processor';
export { QueueRoleModule, type QueueRoleOptions } from './queue-role.module';
export { QueuesModule } from './queues.module';
export { BULL_CONNECTION } from './bull-connection';
export { nodeServing, parseClusterNode } from './cluster-connection';
export {
  createRedisClient,
  hashTaggedPrefix,
  isCluster,
  redisOptionsFromUrl,
  redisTarget,
  type ClientOptions,
  type RedisClient,
  type RedisTarget,
} from './redis-connection';
export { REDIS, RedisKeys } from './redis.provider';
export { HeartbeatPublisher, HeartbeatReader, type WorkerHeartbeat } from './worker-heartbeats';
export { isRedisUnavailable, RedisScript } from './redis-script';
