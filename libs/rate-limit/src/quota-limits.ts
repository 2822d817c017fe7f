import type { QuotaLimits } from './quota.types';

/** An account's quotas as the engine counts them: a null window is unlimited, so it is left out. */
export function quotaLimits(quotas: {
  hourly: number | null;
  daily: number | null;
  weekly: number | null;
}): QuotaLimits {
  const { hourly, daily, weekly } = quotas;
  return {
    ...(hourly !== null ? { hour: hourly } : {}),
    ...(daily !== null ? { day: daily } : {}),
    ...(weekly !== null ? { week: weekly } : {}),
  };
}
