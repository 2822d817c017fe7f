import type { ReactNode } from 'react';

/** A labelled horizontal gauge (the native <meter>, so assistive tech reads value and range). */
export function Gauge({
  label,
  value,
  max,
  detail,
}: {
  label: string;
  value: number;
  max: number;
  detail?: ReactNode;
}) {
  const id = `gauge-${label.replace(/\W+/g, '-').toLowerCase()}`;
  return (
    <div className="gauge">
      <label htmlFor={id}>
        {label}: <strong>{value}</strong> / {max}
      </label>
      <meter
        id={id}
        min={0}
        max={Math.max(max, 1)}
        value={value}
        low={max * 0.7}
        high={max * 0.9}
        optimum={0}
      />
      {detail && <div className="muted small">{detail}</div>}
    </div>
  );
}
