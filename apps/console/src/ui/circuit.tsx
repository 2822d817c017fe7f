import type { UseQueryResult } from '@tanstack/react-query';
import { words } from './format';
import { QueryView } from './states';
import { Time } from './time';

interface CircuitState {
  state: string;
  failures: number;
  open_until: string | null;
}

/** An account's breaker (sender or source): its state, recent failures and when an open one tries again. */
export function CircuitLine({ query }: { query: UseQueryResult<CircuitState> }) {
  return (
    <div className="circuit">
      <span>Circuit:</span>
      <QueryView query={query} label="the circuit">
        {(c) => (
          <span>
            <span className={`pill ${c.state}`}>{words(c.state)}</span> {c.failures} recent failures
            {c.open_until && (
              <>
                , open until <Time iso={c.open_until} short />
              </>
            )}
          </span>
        )}
      </QueryView>
    </div>
  );
}
