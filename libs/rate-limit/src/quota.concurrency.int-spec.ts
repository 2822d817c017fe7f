import { createTestDatabase, testRedisPrefix, testRedisUrl, type TestDatabase } from '@herald/testing';
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ContenderRound, ContenderSetup } from '../test/quota-contender';

// The contender runs from the build (npm test builds first), as a real separate process.
const SCRIPT = join(__dirname, '../../../dist/libs/rate-limit/test/quota-contender.js');

type Reply = { ready?: true; round?: number; admitted?: number; error?: string };

function next(child: ChildProcess, match: (reply: Reply) => boolean): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const onMessage = (reply: Reply) => {
      if (reply.error) reject(new Error(reply.error));
      else if (match(reply)) {
        child.off('message', onMessage);
        resolve(reply);
      }
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`contender exited with code ${code}`)));
  });
}

describe('quota under 4 processes × 50 concurrent reservations', () => {
  let db: TestDatabase;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    if (!existsSync(SCRIPT)) throw new Error(`${SCRIPT} is missing: run npm run build first`);
    db = await createTestDatabase();
    const setup: ContenderSetup = {
      redisUrl: testRedisUrl(),
      prefix: testRedisPrefix(),
      databaseUrl: db.url,
    };
    const ready = Array.from({ length: 4 }, () => {
      const child = fork(SCRIPT, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      children.push(child);
      const started = next(child, (r) => r.ready === true);
      child.send(setup);
      return started;
    });
    await Promise.all(ready);
  });

  afterAll(async () => {
    await Promise.all(
      children.map((child) => {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        if (child.connected) child.send({ stop: true });
        else child.kill();
        return exited;
      }),
    );
    await db?.drop();
  });

  it('admits exactly the quota, round after round', async () => {
    const totals: number[] = [];
    const perProcess: number[][] = [];
    for (let round = 0; round < 5; round++) {
      const message: ContenderRound = {
        round,
        accountId: `acct-concurrency-${round}`,
        limit: 1000,
        concurrency: 50,
        at: Date.parse('2026-05-04T10:00:00Z') + round * 86_400_000,
      };
      const replies = await Promise.all(
        children.map((child) => {
          const reply = next(child, (r) => r.round === round);
          child.send(message);
          return reply;
        }),
      );
      const counts = replies.map((r) => r.admitted ?? -1);
      perProcess.push(counts);
      totals.push(counts.reduce((a, b) => a + b, 0));
    }
    expect(totals).toEqual([1000, 1000, 1000, 1000, 1000]);
    // Every process took part (the race was real, not one process taking everything).
    for (const counts of perProcess) expect(counts.filter((c) => c > 0).length).toBeGreaterThan(1);
  }, 60_000);
});
