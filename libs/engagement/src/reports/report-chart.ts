import type { WeeklyReport } from './weekly-report';

const WIDTH = 560;
const HEIGHT = 200;
const PAD = { top: 16, right: 12, bottom: 28, left: 40 };
const SENT = '#4f6bed';
const REPLIED = '#2e9e6a';

/**
 * The week's sends and replies per day as an inline SVG bar chart. Hand-written: seven pairs
 * of bars and an axis are a few dozen lines, and no installed package draws charts without a
 * browser. Inline SVG keeps the email self-contained (no image host, no tracking pixel).
 */
export function weekChartSvg(daily: WeeklyReport['daily']): string {
  const max = Math.max(1, ...daily.map((d) => Math.max(d.sent, d.replied)));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(1, daily.length);
  const bar = Math.max(2, slot * 0.35);
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH;
  const parts: string[] = [];
  parts.push(
    `<line x1="${PAD.left}" y1="${PAD.top + plotH}" x2="${WIDTH - PAD.right}" y2="${PAD.top + plotH}" stroke="#999" stroke-width="1"/>`,
    `<text x="${PAD.left - 6}" y="${PAD.top + 4}" font-size="10" text-anchor="end" fill="#555">${max}</text>`,
    `<text x="${PAD.left - 6}" y="${PAD.top + plotH}" font-size="10" text-anchor="end" fill="#555">0</text>`,
  );
  daily.forEach((d, i) => {
    const x = PAD.left + i * slot + (slot - 2 * bar) / 2;
    parts.push(
      `<rect x="${r(x)}" y="${r(y(d.sent))}" width="${r(bar)}" height="${r(PAD.top + plotH - y(d.sent))}" fill="${SENT}"><title>${d.date}: ${d.sent} sent</title></rect>`,
      `<rect x="${r(x + bar)}" y="${r(y(d.replied))}" width="${r(bar)}" height="${r(PAD.top + plotH - y(d.replied))}" fill="${REPLIED}"><title>${d.date}: ${d.replied} replied</title></rect>`,
      `<text x="${r(PAD.left + i * slot + slot / 2)}" y="${HEIGHT - 10}" font-size="10" text-anchor="middle" fill="#555">${d.date.slice(5)}</text>`,
    );
  });
  parts.push(
    `<rect x="${WIDTH - 150}" y="2" width="10" height="10" fill="${SENT}"/><text x="${WIDTH - 136}" y="11" font-size="10" fill="#333">sent</text>`,
    `<rect x="${WIDTH - 90}" y="2" width="10" height="10" fill="${REPLIED}"/><text x="${WIDTH - 76}" y="11" font-size="10" fill="#333">replied</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="Sends and replies per day">${parts.join('')}</svg>`;
}

function r(n: number): string {
  return (Math.round(n * 10) / 10).toString();
}
