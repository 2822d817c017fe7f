import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const INDEX = join(__dirname, '../../../dist/libs/telemetry/src/index.js');

/** Which OpenTelemetry SDK packages a fresh process has loaded after requiring @herald/telemetry. */
function sdkLoadedWith(env: Record<string, string>): string[] {
  const script = `
    require('reflect-metadata');
    require(${JSON.stringify(INDEX)});
    const loaded = new Set();
    for (const file of Object.keys(require.cache)) {
      const m = /node_modules\\/@opentelemetry\\/([^/]+)\\//.exec(file);
      if (m && m[1] !== 'api') loaded.add(m[1]);
    }
    process.stdout.write(JSON.stringify([...loaded].sort()));`;
  const result = spawnSync(process.execPath, ['-e', script], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout) as string[];
}

describe('tracing off by default', () => {
  it('loads no OpenTelemetry SDK package (only the no-op api) when OTEL_EXPORTER_OTLP_ENDPOINT is unset', () => {
    expect(sdkLoadedWith({})).toEqual([]);
  });

  it('hooks the http, pg and ioredis instrumentations as @herald/telemetry loads when an endpoint is set', () => {
    const loaded = sdkLoadedWith({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' });
    expect(loaded).toEqual(
      expect.arrayContaining(['instrumentation-http', 'instrumentation-ioredis', 'instrumentation-pg']),
    );
    // The provider and exporter wait for startTracing (the role names the service).
    expect(loaded).not.toContain('sdk-trace');
  });
});
