import { weekChartSvg } from './report-chart';
import type { Funnel, WeeklyReport } from './weekly-report';

const FUNNEL_STEPS: (keyof Funnel)[] = ['sent', 'delivered', 'opened', 'clicked', 'replied', 'converted'];

/** Text for HTML: the report shows names tenants chose (campaigns, accounts). */
function esc(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function pct(value: number | null): string {
  return value === null ? '–' : `${(Math.round(value * 10_000) / 100).toFixed(2)}%`;
}

/** The weekly report as an HTML email body (tables, inline styles, the chart inline as SVG). */
export function weeklyReportHtml(report: WeeklyReport): string {
  const cell = 'style="padding:4px 8px;border-bottom:1px solid #eee;text-align:right"';
  const head = 'style="padding:4px 8px;border-bottom:2px solid #ccc;text-align:right"';
  const first = 'style="padding:4px 8px;border-bottom:1px solid #eee;text-align:left"';
  const campaigns = report.campaigns
    .map((c) => {
      const experiments = c.experiments
        .map(
          (x) =>
            `<p style="margin:4px 0 0 8px;font-size:13px">Experiment on step ${x.step + 1} (${esc(x.metric)}): ${x.variants
              .map((v) => `${esc(v.name)} ${v.sent} sent, ${pct(v.rate)}`)
              .join('; ')}. ${
              x.winner ? `Winner: <strong>${esc(x.winner)}</strong>` : 'No winner yet'
            }${x.promoted ? `, promoted: ${esc(x.promoted)}` : ''}.</p>`,
        )
        .join('');
      return `<tr><td ${first}>${esc(c.name)}${experiments}</td>${FUNNEL_STEPS.map((k) => `<td ${cell}>${c.funnel[k]}</td>`).join('')}</tr>`;
    })
    .join('');
  const accounts = report.deliverability
    .map(
      (a) =>
        `<tr><td ${first}>${esc(a.name)}</td><td ${cell}>${a.sent}</td><td ${cell}>${a.bounced}</td><td ${cell}>${pct(a.bounce_rate)}</td><td ${cell}>${a.complained}</td><td ${cell}>${pct(a.complaint_rate)}</td></tr>`,
    )
    .join('');
  const t = report.totals;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(report.tenant_name)}: week ${esc(report.week)}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;color:#222;max-width:640px;margin:0 auto;padding:16px">
<h1 style="font-size:20px">${esc(report.tenant_name)}: week ${esc(report.week)}</h1>
<p style="color:#555">${esc(report.from.slice(0, 10))} to ${esc(report.to.slice(0, 10))} (${esc(report.time_zone)}): ${t.sent} sent, ${t.delivered} delivered, ${t.replied} replied, ${t.clicked} clicked, ${t.converted} converted, ${t.bounced} bounced, ${t.complained} complaints.</p>
${weekChartSvg(report.daily)}
<h2 style="font-size:16px">Campaigns</h2>
${
  report.campaigns.length === 0
    ? '<p>No campaign sent anything this week.</p>'
    : `<table style="border-collapse:collapse;width:100%;font-size:14px"><tr><th style="padding:4px 8px;border-bottom:2px solid #ccc;text-align:left">Campaign</th>${FUNNEL_STEPS.map((k) => `<th ${head}>${k}</th>`).join('')}</tr>${campaigns}</table>`
}
<h2 style="font-size:16px">Deliverability</h2>
${
  report.deliverability.length === 0
    ? '<p>No sender account sent anything this week.</p>'
    : `<table style="border-collapse:collapse;width:100%;font-size:14px"><tr><th style="padding:4px 8px;border-bottom:2px solid #ccc;text-align:left">Sender account</th><th ${head}>sent</th><th ${head}>bounced</th><th ${head}>bounce rate</th><th ${head}>complaints</th><th ${head}>complaint rate</th></tr>${accounts}</table>`
}
</body></html>`;
}

/** The same report as plain text (the email's text part). */
export function weeklyReportText(report: WeeklyReport): string {
  const t = report.totals;
  const lines = [
    `${report.tenant_name}: week ${report.week} (${report.time_zone})`,
    `${t.sent} sent, ${t.delivered} delivered, ${t.replied} replied, ${t.clicked} clicked, ${t.converted} converted, ${t.bounced} bounced, ${t.complained} complaints.`,
    '',
    'Campaigns:',
    ...report.campaigns.flatMap((c) => [
      `- ${c.name}: ${FUNNEL_STEPS.map((k) => `${c.funnel[k]} ${k}`).join(', ')}`,
      ...c.experiments.map(
        (x) =>
          `  experiment on step ${x.step + 1} (${x.metric}): ${x.winner ? `winner ${x.winner}` : 'no winner yet'}${x.promoted ? `, promoted ${x.promoted}` : ''}`,
      ),
    ]),
    '',
    'Deliverability:',
    ...report.deliverability.map(
      (a) =>
        `- ${a.name}: ${a.sent} sent, bounce rate ${pct(a.bounce_rate)}, complaint rate ${pct(a.complaint_rate)}`,
    ),
  ];
  return lines.join('\n');
}
