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
