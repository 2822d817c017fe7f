import { INFRA_ENV, prepareTemplate, startInfrastructure } from '@herald/testing';

/** Starts Postgres and Redis once per jest run and migrates the template test databases copy. */
export default async function globalSetup(): Promise<void> {
  const started = performance.now();
  const infra = await startInfrastructure();
  await prepareTemplate(infra.postgresUrl);
  process.env[INFRA_ENV.postgres] = infra.postgresUrl;
  process.env[INFRA_ENV.redis] = infra.redisUrl;
  process.env[INFRA_ENV.mode] = infra.mode;
  (globalThis as { __heraldInfra?: typeof infra }).__heraldInfra = infra;
  process.stderr.write(
    `\ntest infrastructure: ${infra.mode} (Postgres and Redis ready in ${Math.round(performance.now() - started)} ms)\n`,
  );
}
