/**
 * Deliveries per day as an inline SVG bar chart (a handful of bars needs no chart library),
 * with the same numbers in a table for screen readers and keyboard users.
 */
export function DayChart({ days, caption }: { days: { date: string; count: number }[]; caption: string }) {
  if (days.length === 0) return <p className="empty">The forecast sends nothing.</p>;
  const max = Math.max(1, ...days.map((d) => d.count));
  const barWidth = 36;
  const gap = 12;
  const height = 140;
  const width = days.length * (barWidth + gap) + gap;
  return (
    <figure className="chart">
      <svg
        viewBox={`0 0 ${width} ${height + 40}`}
        width="100%"
        style={{ maxWidth: `${width}px` }}
        role="img"
        aria-label={`${caption}: ${days.map((d) => `${d.date} ${d.count}`).join(', ')}`}
      >
        {days.map((day, i) => {
          const h = Math.max(2, Math.round((day.count / max) * height));
          const x = gap + i * (barWidth + gap);
          return (
            <g key={day.date}>
              <rect x={x} y={height - h + 16} width={barWidth} height={h} rx={3} className="bar" />
              <text x={x + barWidth / 2} y={height - h + 12} textAnchor="middle" className="bar-value">
                {day.count}
              </text>
              <text x={x + barWidth / 2} y={height + 32} textAnchor="middle" className="bar-label">
                {day.date.slice(5)}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption>{caption}</figcaption>
      <details>
        <summary>As a table</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">Day</th>
              <th scope="col">Deliveries</th>
            </tr>
          </thead>
          <tbody>
            {days.map((d) => (
              <tr key={d.date}>
                <td>{d.date}</td>
                <td>{d.count}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
