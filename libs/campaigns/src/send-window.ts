import type { SendWindowSpec } from '@herald/time';
import type { SendWindow } from './campaign-fields';

/** A campaign's stored window as the time library reads it: in its own zone, else the sender account's. */
export function sendWindowSpec(window: SendWindow, accountZone: string): SendWindowSpec {
  return {
    start: window.start,
    end: window.end,
    ...(window.days ? { days: window.days } : {}),
    timeZone: window.time_zone ?? accountZone,
  };
}
