import type { UseQueryResult } from '@tanstack/react-query';
import { Gauge } from './gauge';
import { QueryView } from './states';
import { Time } from './time';

interface QuotaUse {
  windows: { window: string; used: number; limit: number; remaining: number; resets_at: string }[];
}

/** An account's quota (sender or source): a gauge per window with what is left and when it resets. */
export function QuotaGauges({
  query,
  name,
  empty,
}: {
  query: UseQueryResult<QuotaUse>;
  name: string;
  empty: string;
}) {
  return (
    <QueryView query={query} label="quota" isEmpty={(d) => d.windows.length === 0} empty={empty}>
      {(q) => (
        <div className="gauges">
          {q.windows.map((w) => (
            <Gauge
              key={w.window}
              label={`${name} ${w.window}`}
              value={w.used}
              max={w.limit}
              detail={
                <>
                  {w.remaining} left · resets <Time iso={w.resets_at} short />
                </>
              }
            />
          ))}
        </div>
      )}
    </QueryView>
  );
}
