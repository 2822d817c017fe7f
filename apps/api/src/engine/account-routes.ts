import type { AccountQuotas } from '@herald/channels';
import { ProblemException } from '../http/problem';
import { found } from '../http/resource-answers';

/** A create body's quotas, as stored: a window not given is unlimited (null). */
export function givenQuotas(
  quotas: { hourly?: number | null; daily?: number | null; weekly?: number | null } | undefined,
): AccountQuotas {
  return { hourly: quotas?.hourly ?? null, daily: quotas?.daily ?? null, weekly: quotas?.weekly ?? null };
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
