import type { SendWindowSpec } from '@herald/time';

/** A campaign's send window as stored (wire form); its zone defaults to the sender account's. */
export interface StoredSendWindow {
  start: string;
  end: string;
  days?: ('mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun')[];
  time_zone?: string;
}

/** The window as the time library reads it: in its own zone, else the sender account's. */
export function sendWindowSpec(window: StoredSendWindow, accountZone: string): SendWindowSpec {
  return {
    start: window.start,
    end: window.end,
    ...(window.days ? { days: window.days } : {}),
    timeZone: window.time_zone ?? accountZone,
  };
}
