import type { DeliveryContext } from '../ledger.repository';
import type { SendingAccount } from '../sender-accounts.repository';
import type { Ready, Step } from './types';

/**
 * Plain data for the stages' unit tests (no database, no Redis): a delivery as `load` returns
 * it, an account as `forSending` returns it, and a step that runs its work once.
 */
export function context(overrides: Partial<DeliveryContext> & { id: string }): DeliveryContext {
  return {
    tenantId: 't1',
    deliveryKey: `bc:r1:${overrides.id}`,
    status: 'pending',
    leaseUntil: null,
    campaignId: 'g1',
    runId: 'r1',
    step: 0,
    senderAccountId: 'a1',
    channel: 'webhook',
    contact: {
      id: `c-${overrides.id}`,
      email: `${overrides.id}@example.test`,
      firstName: 'Ada',
      lastName: 'Lovelace',
      externalRef: null,
      status: 'active',
      attributes: {},
    },
    campaign: {
      content: { subject: 'Hi', body: 'Hello {{ first_name }}' },
      quotaPolicy: 'defer',
      runCap: null,
      status: 'active',
      sendWindow: null,
      promotedVariant: null,
      tracking: { opens: false, clicks: false },
    },
    layout: null,
    runStatus: 'running',
    suppressed: false,
    ...overrides,
  };
}

export function account(overrides: Partial<SendingAccount> = {}): SendingAccount {
  return {
    tenantId: 't1',
    id: 'a1',
    name: 'Sender',
    channel: 'webhook',
    settings: {},
    quotas: { hourly: null, daily: null, weekly: null },
    timeZone: 'Europe/Paris',
    pausedReason: null,
    status: 'active',
    deliveryGuarantee: 'at_least_once',
    createdAt: new Date(0),
    updatedAt: new Date(0),
    config: {},
    quota: { id: 't1:a1', timeZone: 'Europe/Paris', limits: {} },
    ...overrides,
  };
}

export function ready(id: string, overrides: Partial<Ready> = {}): Ready {
  return { ctx: context({ id }), account: account(), ...overrides };
}

export function reservation(id: string) {
  return { id: `${id}:r`, accountId: 't1:a1', units: 1, backend: 'redis' as const, reservedAt: 0 };
}

/** A step that runs its work once and names what it ran. */
export function recordingStep(names: string[] = []): Step {
  return (name, work) => {
    names.push(name);
    return work();
  };
}
