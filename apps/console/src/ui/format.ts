/** Status words as people read them ("half_open" → "half open"). */
export function words(value: string): string {
  return value.replace(/_/g, ' ');
}

export function percent(ratio: number): string {
  return `${Math.round(Math.max(0, Math.min(1, ratio)) * 100)}%`;
}

export function rate(perSecond: number): string {
  if (perSecond <= 0) return '0/s';
  if (perSecond >= 1) return `${perSecond.toFixed(perSecond >= 10 ? 0 : 1)}/s`;
  return `${(perSecond * 60).toFixed(1)}/min`;
}

/** A score's explanation as lines a person reads ("+20 HTTPS"): the api stores {rule, points, reason} per matched rule. */
export function explainLines(explain: unknown): string[] {
  if (!Array.isArray(explain)) return [];
  return explain.map((line: unknown) => {
    if (typeof line === 'string') return line;
    const { reason, rule, points } = (line ?? {}) as { reason?: unknown; rule?: unknown; points?: unknown };
    if (typeof reason === 'string') return reason;
    return `${typeof points === 'number' ? `${points} ` : ''}${typeof rule === 'string' ? rule : ''}`.trim();
  });
}

/** "49.9000" EUR → "€49.90": the api's decimal string formatted exactly (as a string, never a float). */
export function money(amount: string, currency: string): string {
  try {
    return new Intl.NumberFormat('en-GB', { style: 'currency', currency }).format(
      amount as Intl.StringNumericLiteral,
    );
  } catch {
    return `${amount} ${currency}`;
  }
}
