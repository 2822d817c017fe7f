import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(__dirname, '../../..');

// Spawns a node that loads the whole api and the generator: seconds alone, far more on a busy machine.
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
  }, 180_000);
});
