/** YYYY-MM-DD of an instant in a zone (the api's local days are the tenant's). */
export function localDay(instant: Date, zone: string): string {
  // en-CA writes dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: zone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(instant);
}

/** The api's default range: the last 30 local days, today included. */
export function lastDays(days: number, zone: string, now = new Date()): { from: string; to: string } {
  return { from: localDay(new Date(now.getTime() - (days - 1) * 86_400_000), zone), to: localDay(now, zone) };
}
