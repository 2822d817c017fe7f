import {
  adminCircuits,
  senderAccountsList,
  senderAccountsQuota,
  unwrap,
  type SenderAccount,
} from '@herald/api-client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { client } from '../api/client';
import { setSenderPaused } from '../api/pending-routes';
import { usePageTitle } from '../router';
import { words } from '../ui/format';
import { Gauge } from '../ui/gauge';
import { ProblemView, QueryView } from '../ui/states';
import { Time } from '../ui/time';

/** Sender accounts: quota use per window with reset times, circuit state, pause and resume. */
export function SendersPage() {
  usePageTitle('Sender accounts');
  const senders = useQuery({
    queryKey: ['senders'],
    queryFn: () => unwrap(senderAccountsList({ client, query: { limit: '100' } })),
  });
  // Circuits need a tenant admin key: a read-only session sees the accounts without them.
  const circuits = useQuery({
    queryKey: ['circuits'],
    queryFn: () => unwrap(adminCircuits({ client })),
    refetchInterval: 5_000,
  });
  return (
    <>
      <h1 tabIndex={-1}>Sender accounts</h1>
      <QueryView
        query={senders}
        label="sender accounts"
        isEmpty={(d) => d.data.length === 0}
        empty="No sender accounts yet."
      >
        {(page) => (
          <ul className="cards">
            {page.data.map((s) => (
              <SenderCard
                key={s.id}
                sender={s}
                circuit={circuits.data?.data.find((c) => c.sender_account_id === s.id)}
                circuitsError={circuits.error}
              />
            ))}
          </ul>
        )}
      </QueryView>
    </>
  );
}

function SenderCard({
  sender,
  circuit,
  circuitsError,
}: {
  sender: SenderAccount;
  circuit: { state: string; failures: number; open_until: string | null } | undefined;
  circuitsError: unknown;
}) {
  const queries = useQueryClient();
  const quota = useQuery({
    queryKey: ['sender', sender.id, 'quota'],
    queryFn: () => unwrap(senderAccountsQuota({ client, path: { id: sender.id } })),
    refetchInterval: 10_000,
  });
  const pause = useMutation({
    mutationFn: (paused: boolean) => setSenderPaused(sender.id, paused),
    onSuccess: () => void queries.invalidateQueries({ queryKey: ['senders'] }),
  });
  return (
    <li className="card">
      <h2>
        {sender.name} <span className={`pill ${sender.status}`}>{words(sender.status)}</span>
      </h2>
      <p className="muted small">
        {sender.channel} · {sender.time_zone} · {words(sender.delivery_guarantee)}
      </p>
      <QueryView
        query={quota}
        label="quota"
        isEmpty={(d) => d.windows.length === 0}
        empty="No quota: this account sends without a limit."
      >
        {(q) => (
          <div className="gauges">
            {q.windows.map((w) => (
              <Gauge
                key={w.window}
                label={`${sender.name} ${w.window}`}
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
      <p>
        Circuit:{' '}
        {circuit ? (
          <>
            <span className={`pill ${circuit.state}`}>{words(circuit.state)}</span> {circuit.failures} recent
            failures
            {circuit.open_until && (
              <>
                , open until <Time iso={circuit.open_until} short />
              </>
            )}
          </>
        ) : circuitsError ? (
          <span className="muted">not visible with this key</span>
        ) : (
          <span className="pill closed">closed</span>
        )}
      </p>
      {sender.status !== 'disabled' && (
        <button
          type="button"
          className="secondary"
          disabled={pause.isPending}
          onClick={() => pause.mutate(sender.status === 'active')}
        >
          {sender.status === 'active' ? `Pause ${sender.name}` : `Resume ${sender.name}`}
        </button>
      )}
      {pause.isError && <ProblemView error={pause.error} title="Could not change the account" />}
    </li>
  );
}
