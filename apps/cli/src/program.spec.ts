import { EXIT } from './exit-codes';
import { runCli } from './program';

class Sink {
  text = '';
  write(text: string): boolean {
    this.text += text;
    return true;
  }
}

/** Runs the CLI in-process with empty connection settings, so nothing is reached. */
async function cli(...argv: string[]) {
  const io = { stdout: new Sink(), stderr: new Sink() };
  const code = await runCli(['--database-url', '', '--redis-url', '', '--key', '', ...argv], io);
  return { code, stdout: io.stdout.text, stderr: io.stderr.text };
}

describe('herald (no dependency reached)', () => {
  it('prints help with every command and the exit codes', async () => {
    const { code, stdout } = await cli('--help');
    expect(code).toBe(EXIT.ok);
    for (const command of [
      'migrate',
      'tenants',
      'keys',
      'contacts',
      'campaigns',
      'runs',
      'deliveries',
      'queues',
      'failed',
      'circuits',
      'health',
    ]) {
      expect(stdout).toContain(`  ${command}`);
    }
    expect(stdout).toContain('Exit codes: 0 ok');
    expect(stdout).toContain('env: HERALD_API_URL');
  });

  it('refuses an unknown command or option, or nothing at all, with exit 2', async () => {
    expect(await cli('frobnicate')).toMatchObject({
      code: EXIT.usage,
      stderr: expect.stringContaining("unknown command 'frobnicate'") as string,
    });
    expect((await cli('queues', '--nope')).code).toBe(EXIT.usage);
    expect((await cli()).code).toBe(EXIT.usage);
  });

  it.each([
    [['migrate', 'status'], 'DATABASE_URL is not set'],
    [['tenants', 'list'], 'DATABASE_URL is not set'],
    [['queues'], 'REDIS_URL is not set'],
    [['circuits'], 'REDIS_URL is not set'],
    [['runs', 'watch', '0190f5e4-9999-7c3d-8e4f-5a6b7c8d9e0f'], 'HERALD_API_KEY is not set'],
    [['deliveries', 'unknown'], 'HERALD_API_KEY is not set'],
  ])('%j names the missing variable in one line, exit 2', async (argv, message) => {
    const { code, stderr } = await cli(...argv);
    expect(code).toBe(EXIT.usage);
    expect(stderr.trim().split('\n')).toEqual([expect.stringContaining(message)]);
  });

  it('checks arguments before reaching anything', async () => {
    expect((await cli('runs', 'watch', 'not-a-run')).stderr).toContain('the run id must be a UUID');
    expect((await cli('failed', 'list', 'system', '--limit', '0')).stderr).toContain(
      '--limit must be a whole number',
    );
    expect((await cli('circuits', 'open', 'carrier-pigeon:x')).stderr).toContain('not a circuit key');
    expect((await cli('deliveries', 'resend', 'nope')).stderr).toContain('the delivery id must be a UUID');
    const close = await cli(
      'deliveries',
      'close',
      '0190f5e4-5555-7c3d-8e4f-5a6b7c8d9e0f',
      '--outcome',
      'maybe',
      '--reason',
      'x',
    );
    expect(close).toMatchObject({
      code: EXIT.usage,
      stderr: expect.stringContaining('--outcome must be sent or failed') as string,
    });
  });

  it('with --json, a usage error found by the parser is a JSON document too', async () => {
    const { code, stdout, stderr } = await cli('--json', 'queues', '--nope');
    expect(code).toBe(EXIT.usage);
    expect(stderr).toBe("error: unknown option '--nope'\n");
    expect(JSON.parse(stdout)).toEqual({
      error: { exit_code: 2, message: "unknown option '--nope'", errors: [] },
    });
  });

  it('with --json, an error is also one JSON document on stdout', async () => {
    const { code, stdout } = await cli('--json', 'queues');
    expect(code).toBe(EXIT.usage);
    expect(JSON.parse(stdout)).toEqual({
      error: { exit_code: 2, message: expect.stringContaining('REDIS_URL') as string, errors: [] },
    });
  });

  it('reports a file it cannot import before calling the API', async () => {
    const missing = await cli('--key', 'hk_x', 'contacts', 'import', '/nonexistent/contacts.csv');
    expect(missing).toMatchObject({
      code: EXIT.usage,
      stderr: 'herald: cannot read /nonexistent/contacts.csv: no such file\n',
    });
    const unknown = await cli('--key', 'hk_x', 'contacts', 'import', 'contacts.xlsx');
    expect(unknown.stderr).toContain('cannot tell the format of contacts.xlsx');
  });
});
