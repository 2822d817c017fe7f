import type { NewSealedAccount } from '@herald/channels';
import { uuidv7 } from '@herald/contacts';
import type { TenantPrincipal } from '@herald/tenants';
import { ProblemException } from '../http/problem';
import { found } from '../http/resource-answers';

/** What a create body gives every account, sender or source (the kind of account comes apart). */
export interface AccountBody {
  name: string;
  config: Record<string, unknown>;
  quotas?: { hourly?: number | null; daily?: number | null; weekly?: number | null } | undefined;
  time_zone?: string | undefined;
}

/** A new account from its create body: a fresh id, unlimited windows where none is given, the tenant's zone by default. */
export function newAccount(principal: TenantPrincipal, body: AccountBody): NewSealedAccount {
  const quotas = body.quotas;
  return {
    tenantId: principal.tenantId,
    id: uuidv7(),
    name: body.name,
    config: body.config,
    quotas: { hourly: quotas?.hourly ?? null, daily: quotas?.daily ?? null, weekly: quotas?.weekly ?? null },
    timeZone: body.time_zone ?? principal.tenantTimeZone,
  };
}

/**
 * What pausing or resuming an account (sender or source) answers: the account, a 404 when the
 * tenant has none such, a 409 when it is disabled (neither applies to it).
 */
export function pausedOrResumed<T>(account: T | 'disabled' | undefined, noun: string, id: string): T {
  const present = found(account, noun, id);
  if (present === 'disabled')
    throw ProblemException.of('conflict', `This ${noun} is disabled: it cannot be paused or resumed.`);
  return present;
}
