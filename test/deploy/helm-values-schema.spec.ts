import { CHART_DIR, helm, template, VALUES_SETS, valuesArgs } from './helm-tools';

const defaults = VALUES_SETS[0]!;
const REFUSED = "values don't meet the specifications of the schema(s) in the following chart(s):";

describe('helm/herald values.schema.json', () => {
  it.each([
    [
      'a misspelt key',
      ['--set', 'worker.replcas=3'],
      "at '/worker': additional properties 'replcas' not allowed",
    ],
    [
      'a pull policy Kubernetes does not know',
      ['--set', 'image.pullPolicy=Sometimes'],
      "at '/image/pullPolicy': value must be one of 'Always', 'IfNotPresent', 'Never'",
    ],
    [
      'a port out of range',
      ['--set', 'ports.http=70000'],
      "at '/ports/http': maximum: got 70,000, want 65,535",
    ],
    [
      'a replica count given as text',
      ['--set-string', 'beat.replicas=two'],
      "at '/beat/replicas': got string, want integer",
    ],
    ['an admin key shorter than 32 characters', ['--set', 'secret.adminKey=short'], "at '/secret/adminKey'"],
    [
      'an encryption key that is not 32 bytes',
      ['--set', 'secret.encryptionKey=k1:abcd'],
      "at '/secret/encryptionKey'",
    ],
    [
      'an unknown Ingress path type',
      ['--set', 'api.ingress.hosts[0].paths[0].pathType=Anywhere'],
      "at '/api/ingress/hosts/0/paths/0/pathType'",
    ],
    [
      'KEDA fallback with no replicas',
      ['--set', 'worker.keda.fallback.replicas=0'],
      "at '/worker/keda/fallback/replicas'",
    ],
    [
      'the removed worker.resources (pools size themselves now)',
      ['--set', 'worker.resources.limits.memory=1Gi'],
      "at '/worker': additional properties 'resources' not allowed",
    ],
    [
      'a worker pool without resources',
      ['--set-json', 'worker.pools.extra={"queues":["deliveries"]}'],
      "at '/worker/pools/extra': missing property 'resources'",
    ],
    [
      'a worker pool name that is not a DNS label',
      ['--set-json', 'worker.pools.Big_Pool={"queues":[],"resources":{}}'],
      "invalid propertyName 'Big_Pool'",
    ],
    ['an OTLP endpoint that is not a URL', ['--set', 'otel.endpoint=tempo:4318'], "at '/otel/endpoint'"],
    [
      'an extra env entry without a name',
      ['--set-json', 'extraEnv=[{"value":"x"}]'],
      "at '/extraEnv/0': missing property 'name'",
    ],
  ])('helm template refuses %s and names the value', (_what, args, message) => {
    const result = template(defaults, args);
    expect(result.status).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(REFUSED);
    expect(result.stderr).toContain(message);
  });

  it('helm lint --strict refuses the same values', () => {
    const result = helm([
      'lint',
      '--strict',
      CHART_DIR,
      ...valuesArgs(defaults),
      '--set',
      'worker.replcas=3',
    ]);
    expect(result.status).not.toBe(0);
    expect(`${result.stdout}\n${result.stderr}`).toContain("additional properties 'replcas' not allowed");
  });
});
