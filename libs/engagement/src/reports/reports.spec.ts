import { dueReportWeek, lastCompletedWeek, weekBounds, weekDates, weekOf } from './iso-week';
import { weekChartSvg } from './report-chart';
import { weeklyReportHtml, weeklyReportText } from './report-html';
import type { WeeklyReport } from './weekly-report';

describe('ISO weeks in a time zone', () => {
  it('bounds a week Monday to Monday, local midnight', () => {
    expect(weekBounds('2026-W49', 'Europe/Paris')).toEqual({
      from: new Date('2026-11-30T00:00:00+01:00'),
      to: new Date('2026-12-07T00:00:00+01:00'),
    });
    expect(weekBounds('2026-W01', 'UTC')!.from).toEqual(new Date('2025-12-29T00:00:00Z'));
    expect(weekDates('2026-W49', 'UTC')).toEqual([
      '2026-11-30',
      '2026-12-01',
      '2026-12-02',
      '2026-12-03',
      '2026-12-04',
      '2026-12-05',
      '2026-12-06',
    ]);
  });

  it('knows which years have a week 53, and refuses what is no week', () => {
    expect(weekBounds('2026-W53', 'UTC')).not.toBeNull(); // 2026 starts on a Thursday
    expect(weekBounds('2025-W53', 'UTC')).toBeNull();
    expect(weekBounds('2026-W00', 'UTC')).toBeNull();
    expect(weekBounds('2026-49', 'UTC')).toBeNull();
  });

  it('names the week of an instant in the zone: Sunday night in Paris is Monday in Tokyo', () => {
    const sundayNight = new Date('2026-12-06T20:00:00Z');
    expect(weekOf(sundayNight, 'Europe/Paris')).toBe('2026-W49');
    expect(weekOf(sundayNight, 'Asia/Tokyo')).toBe('2026-W50');
    expect(lastCompletedWeek(new Date('2026-12-09T12:00:00Z'), 'UTC')).toBe('2026-W49');
  });

  it("makes last week's report due from Monday's report hour in the tenant's zone, and for the rest of the week", () => {
    expect(dueReportWeek(new Date('2026-12-07T06:59:00Z'), 'Europe/Paris', 8)).toBeNull(); // 07:59 Paris
    expect(dueReportWeek(new Date('2026-12-07T07:00:00Z'), 'Europe/Paris', 8)).toBe('2026-W49');
    expect(dueReportWeek(new Date('2026-12-07T07:00:00Z'), 'America/New_York', 8)).toBeNull(); // 02:00 there
    expect(dueReportWeek(new Date('2026-12-10T03:00:00Z'), 'America/New_York', 8)).toBe('2026-W49');
    expect(dueReportWeek(new Date('2026-12-13T22:00:00Z'), 'UTC', 8)).toBe('2026-W49'); // Sunday: still last week's
  });
});

const report: WeeklyReport = {
  tenant_id: 't',
  tenant_name: 'Acme <script>',
  week: '2026-W49',
  time_zone: 'UTC',
  from: '2026-11-30T00:00:00.000Z',
  to: '2026-12-07T00:00:00.000Z',
  totals: {
    sent: 10,
    delivered: 9,
    opened: 5,
    clicked: 2,
    replied: 1,
    converted: 1,
    unsubscribed: 0,
    bounced: 1,
    complained: 0,
  },
  daily: weekDates('2026-W49', 'UTC').map((date, i) => ({ date, sent: i, replied: i % 2, clicked: 0 })),
  campaigns: [
    {
      id: 'c',
      name: 'Spring & "sale"',
      funnel: { sent: 10, delivered: 9, opened: 5, clicked: 2, replied: 1, converted: 1, unsubscribed: 0 },
      experiments: [
        {
          step: 0,
          metric: 'reply',
          leader: 'B',
          winner: 'B',
          promoted: 'B',
          variants: [
            { name: 'A', sent: 5, rate: 0, p: 0.01 },
            { name: 'B', sent: 5, rate: 0.2, p: null },
          ],
        },
      ],
    },
  ],
  deliverability: [
    {
      sender_account_id: 'a',
      name: 'Main',
      sent: 10,
      bounced: 1,
      complained: 0,
      bounce_rate: 0.1,
      complaint_rate: 0,
    },
  ],
};

describe('the weekly report rendered', () => {
  it('draws one pair of bars per day, scaled to the busiest day', () => {
    const svg = weekChartSvg(report.daily);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<rect [^>]*><title>/g)).toHaveLength(14);
    expect(svg).toContain('<title>2026-12-06: 6 sent</title>');
    // The busiest day's bar spans the whole plot height (156 px), an empty day none.
    expect(svg).toMatch(/height="156"[^>]*><title>2026-12-06: 6 sent/);
    expect(svg).toMatch(/height="0"[^>]*><title>2026-11-30: 0 sent/);
  });

  it('escapes what tenants named, and shows funnels, winners and deliverability', () => {
    const html = weeklyReportHtml(report);
    expect(html).toContain('Acme &#60;script&#62;');
    expect(html).not.toContain('<script>');
    expect(html).toContain('Spring &#38; &#34;sale&#34;');
    expect(html).toContain('Winner: <strong>B</strong>, promoted: B');
    expect(html).toContain('<svg');
    expect(html).toMatch(/Main<\/td><td [^>]*>10<\/td><td [^>]*>1<\/td><td [^>]*>10.00%/);
    const text = weeklyReportText(report);
    expect(text).toContain(
      '- Spring & "sale": 10 sent, 9 delivered, 5 opened, 2 clicked, 1 replied, 1 converted',
    );
    expect(text).toContain('experiment on step 1 (reply): winner B, promoted B');
    expect(text).toContain('- Main: 10 sent, bounce rate 10.00%, complaint rate 0.00%');
  });
});
