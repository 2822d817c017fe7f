import { createContext, useContext } from 'react';

/** The tenant's IANA zone (the browser's when the session does not say): every time is shown in it. */
export const ZoneContext = createContext<string>(Intl.DateTimeFormat().resolvedOptions().timeZone);

const formats = new Map<string, Intl.DateTimeFormat>();
function formatter(zone: string, withDate: boolean): Intl.DateTimeFormat {
  const key = `${zone}|${withDate}`;
  let format = formats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone: zone,
      ...(withDate ? { year: 'numeric', month: 'short', day: 'numeric' } : {}),
      hour: '2-digit',
      minute: '2-digit',
      timeZoneName: 'shortOffset',
    });
    formats.set(key, format);
  }
  return format;
}

/** "7 Dec 2026, 22:00 GMT+1": the instant in the zone, with its offset. */
export function formatInstant(iso: string, zone: string, withDate = true): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : formatter(zone, withDate).format(date);
}

export function Time({ iso, short }: { iso: string | null | undefined; short?: boolean }) {
  const zone = useContext(ZoneContext);
  if (!iso) return <span className="muted">—</span>;
  const sameDay = short && new Date(iso).toDateString() === new Date().toDateString();
  return <time dateTime={iso}>{formatInstant(iso, zone, !sameDay)}</time>;
}

export function useZone(): string {
  return useContext(ZoneContext);
}
