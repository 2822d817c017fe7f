export { freePort, freePortRun } from './free-port';
export {
  createTestDatabase,
  databaseUrl,
  INFRA_ENV,
  prepareTemplate,
  startInfrastructure,
  testRedisPrefix,
  testRedisUrl,
  type Infrastructure,
  type TestDatabase,
} from './infrastructure';
export { PostgresServer, type PostgresServerOptions } from './postgres-server';
export { RedisServer, type RedisServerOptions } from './redis-server';
export { HeraldProcess, testEnvironment, TEST_ADMIN_KEY, type LogLine } from './herald-process';
export { eventually } from './eventually';
export { FreezableProxy, type FreezeMoment } from './freezable-proxy';
export { dataSourceBehindProxy } from './proxied-data-source';
export { WebhookSink, type SinkBehaviour, type SinkDelivery } from './webhook-sink';
export { messageHeaders, SmtpSink, type SinkMessage } from './smtp-sink';
export { mimeLeaves, readMime, type MimeEntity } from './mime';
export { seedBroadcast } from './seed';
export { callApi, createTenant, type ApiAnswer, type CreatedTenant } from './api-call';
export { runNodeScript, type ScriptResult } from './run-node-script';
export { RedisCluster, type RedisClusterOptions } from './redis-cluster';
export {
  REDIS_TOPOLOGIES,
  startTestRedis,
  type RedisTopology,
  type TestRedis,
  type TestRedisOptions,
} from './test-redis';
export {
  CATEGORIES,
  CITIES,
  FakeDirectory,
  FakeProfileSite,
  generateBusinesses,
  generatePeople,
  type FakeBusiness,
  type FakeDirectoryOptions,
  type FakePerson,
} from './fake-world';
export { FakeSites, siteProfile, sitePage, SITES_SUFFIX, type SiteProfile } from './fake-world/sites';
export { enrichmentRecord, FakeEnrichment } from './fake-world/enrichment';
