import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(__dirname, '../../..');

describe('the generated api client', () => {
  it('matches what the api’s current OpenAPI document generates (else run npm run client:generate)', async () => {
    const run = promisify(execFile)(
      process.execPath,
      [join(ROOT, 'scripts/client/generate.mjs'), '--check'],
      {
        cwd: ROOT,
      },
    );
    await expect(run).resolves.toMatchObject({ stderr: expect.stringContaining('matches') as unknown });
  }, 60_000);
});
