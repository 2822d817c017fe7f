import type { SendWindowSpec } from '@herald/time';

/**
 * When a delivery may go out, as the ledger hands it to the pipeline: the time library's window,
 * its zone absent when the campaign gave none (the sender account's zone applies).
 */
export type DeliveryWindow = Omit<SendWindowSpec, 'timeZone'> & { timeZone?: string };

/** The window as the time library reads it: in its own zone, else the sender account's. */
export function sendWindowSpec(window: DeliveryWindow, accountZone: string): SendWindowSpec {
  return { ...window, timeZone: window.timeZone ?? accountZone };
}
