import {
  senderAccountsCircuit,
  senderAccountsList,
  senderAccountsPause,
  senderAccountsResume,
  senderAccountsQuota,
  unwrap,
  type SenderAccount,
} from '@herald/api-client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { client } from '../api/client';
import { usePageTitle } from '../router';
import { words } from '../ui/format';
import { CircuitLine } from '../ui/circuit';
import { QuotaGauges } from '../ui/quota-gauges';
import { ProblemView, QueryView } from '../ui/states';

/** Sender accounts: quota use per window with reset times, circuit state, pause and resume. */
export function SendersPage() {
  usePageTitle('Sender accounts');
  const senders = useQuery({
    queryKey: ['senders'],
    queryFn: () => unwrap(senderAccountsList({ client, query: { limit: '100' } })),
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
              <SenderCard key={s.id} sender={s} />
            ))}
          </ul>
        )}
      </QueryView>
    </>
  );
}

function SenderCard({ sender }: { sender: SenderAccount }) {
  const queries = useQueryClient();
  const quota = useQuery({
    queryKey: ['sender', sender.id, 'quota'],
    queryFn: () => unwrap(senderAccountsQuota({ client, path: { id: sender.id } })),
    refetchInterval: 10_000,
  });
  const circuit = useQuery({
    queryKey: ['sender', sender.id, 'circuit'],
    queryFn: () => unwrap(senderAccountsCircuit({ client, path: { id: sender.id } })),
    refetchInterval: 5_000,
  });
  const pause = useMutation({
    mutationFn: (paused: boolean) =>
      unwrap(
        paused
          ? senderAccountsPause({ client, path: { id: sender.id } })
          : senderAccountsResume({ client, path: { id: sender.id } }),
      ),
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
      <QuotaGauges query={quota} name={sender.name} empty="No quota: this account sends without a limit." />
      <CircuitLine query={circuit} />
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
