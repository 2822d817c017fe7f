import { CHANNEL_NAMES } from '@herald/channels';
import { isUuid } from '@herald/contacts';
import { formatCircuitKey, type CircuitKey } from '@herald/resilience';
import type { DataSource, EntityManager } from 'typeorm';
import { SOURCE_KINDS } from './source-account';

/** Which kind of account a circuit guards. */
export type CircuitAccountType = 'sender' | 'source';

/**
 * The breaker keys a sender account's circuit `<channel>:<id>` and a source account's
 * `<kind>:<id>`; channel and kind names never overlap, so the key's first part says which.
 * Here, the one lib that knows both kinds, so the api and the CLI tell them apart alike.
 */
export function circuitAccountType(key: CircuitKey): CircuitAccountType | undefined {
  if ((CHANNEL_NAMES as readonly string[]).includes(key.channel)) return 'sender';
  if ((SOURCE_KINDS as readonly string[]).includes(key.channel)) return 'source';
  return undefined;
}

/** The account a circuit guards, whichever tenant holds it. */
export interface CircuitAccount {
  type: CircuitAccountType;
  tenantId: string;
  accountId: string;
  name: string;
}

/**
 * The accounts (both kinds, any tenant) the given circuits guard, by formatted key. A key whose
 * account does not exist — or exists with another channel or kind: `smtp:<a webhook account>`
 * names no circuit — has no entry.
 */
export async function circuitAccounts(
  db: DataSource | EntityManager,
  keys: readonly CircuitKey[],
): Promise<Map<string, CircuitAccount>> {
  const ids = (type: CircuitAccountType) =>
    keys
      .filter((k) => circuitAccountType(k) === type && isUuid(k.account))
      .map((k) => k.account.toLowerCase());
  const [senders, sources] = [ids('sender'), ids('source')];
  const found = new Map<string, CircuitAccount>();
  if (senders.length === 0 && sources.length === 0) return found;
  const rows = await db.query<
    { type: CircuitAccountType; tenant_id: string; id: string; prefix: string; name: string }[]
  >(
    `SELECT 'sender' AS type, tenant_id, id, channel AS prefix, name FROM sender_accounts WHERE id = ANY($1::uuid[])
     UNION ALL
     SELECT 'source' AS type, tenant_id, id, kind AS prefix, name FROM source_accounts WHERE id = ANY($2::uuid[])`,
    [senders, sources],
  );
  for (const row of rows) {
    found.set(formatCircuitKey({ channel: row.prefix, account: row.id }), {
      type: row.type,
      tenantId: row.tenant_id,
      accountId: row.id,
      name: row.name,
    });
  }
  return found;
}
