// Runs in jest's parent process, outside its module mapper: it loads the built harness
// (every test script builds first; the build takes well under a second).
const { INFRA_ENV, prepareTemplate, startInfrastructure } = require('../../dist/libs/testing/src');

/** Starts Postgres and Redis once per jest run and migrates the template test databases copy. */
module.exports = async function globalSetup() {
  const started = performance.now();
  const infra = await startInfrastructure();
  await prepareTemplate(infra.postgresUrl);
  process.env[INFRA_ENV.postgres] = infra.postgresUrl;
  process.env[INFRA_ENV.redis] = infra.redisUrl;
  process.env[INFRA_ENV.mode] = infra.mode;
  globalThis.__heraldInfra = infra;
  process.stderr.write(
    `\ntest infrastructure: ${infra.mode} (Postgres and Redis ready in ${Math.round(performance.now() - started)} ms)\n`,
  );
};
