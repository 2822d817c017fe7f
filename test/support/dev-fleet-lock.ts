import { eventually } from '@herald/testing';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const LOCK = join(tmpdir(), 'herald-dev-fleet.lock');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The specs that run `npm run dev` (its demo keeps its sinks on fixed ports, 2525 and up, across
 * restarts) take turns: one fleet's restart would find its ports taken by the other's fresh demo.
 * A machine-wide lock (a directory holding the holder's pid); a holder that died is taken over.
 * Returns the release.
 */
export async function holdDevFleetLock(timeoutMs = 600_000): Promise<() => void> {
  await eventually(
    () => {
      try {
        mkdirSync(LOCK);
        writeFileSync(join(LOCK, 'pid'), String(process.pid));
        return Promise.resolve(true);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        let holder = 0;
        try {
          holder = Number(readFileSync(join(LOCK, 'pid'), 'utf8'));
        } catch {
          // Just made by a holder that has not written its pid yet: it is alive.
        }
        if (holder > 0 && !alive(holder)) rmSync(LOCK, { recursive: true, force: true });
        return Promise.resolve(false);
      }
    },
    { timeoutMs, intervalMs: 250, what: 'the dev fleet lock' },
  );
  return () => rmSync(LOCK, { recursive: true, force: true });
}
