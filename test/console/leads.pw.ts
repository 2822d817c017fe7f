import { expect, test, type Page } from '@playwright/test';
import { Client } from 'pg';
import { fleet, LEADS_JOB, LEADS_LIMIT, STALLED_JOB } from './fleet';
import { expectAccessible, expectNoSidewaysScroll, screenshot, signIn } from './support';

const f = fleet();
const at = (path: string) => `${f.url}/console${path}`;

test.describe.configure({ mode: 'serial' });

/** Signed in, the Leads job's latest run (completed by the first test), from the Leads page. */
async function openCompletedLeadsRun(page: Page): Promise<void> {
  await signIn(page, f.url, f.tenant.key);
  await page.goto(at('/leads'));
  await page
    .getByRole('region', { name: 'Sourcing jobs' })
    .getByRole('listitem')
    .filter({ hasText: LEADS_JOB })
    .getByRole('link', { name: /^[0-9a-f]{8}$/ })
    .click();
  await expect(page.getByTestId('sourcing-status')).toHaveText('completed');
}

test('a sourcing run against the directory completes on the Leads page, with candidates by tier and their scores explained', async ({
  page,
}) => {
  await signIn(page, f.url, f.tenant.key);
  await page.goto(at('/'));
  await page.getByRole('link', { name: 'Leads' }).click();
  await expect(page.getByRole('heading', { name: 'Leads' })).toBeVisible();
  const account = page
    .getByRole('region', { name: 'Source accounts' })
    .getByRole('listitem')
    .filter({ hasText: 'Bakery directory' });
  await expect(account.getByRole('meter', { name: /Bakery directory hourly/ })).toBeVisible();
  await expect(account).toContainText(/resets .*GMT\+1/);
  await expect(account).toContainText('http-directory');
  await expect(account).toContainText(/Circuit:\s*closed/);
  const job = page
    .getByRole('region', { name: 'Sourcing jobs' })
    .getByRole('listitem')
    .filter({ hasText: LEADS_JOB });
  await expect(job).toContainText('Never run.');
  await expect(job).toContainText('A contact, B hold, C reject, D reject');
  await expectAccessible(page);
  await screenshot(page, 'leads');

  await job.getByRole('button', { name: `Start a run of ${LEADS_JOB}` }).click();
  await expect(page.getByRole('heading', { name: 'Sourcing run' })).toBeVisible();
  await expect(page.getByTestId('sourcing-status')).toHaveText('completed', { timeout: 120_000 });
  await expect(page.getByText(`${LEADS_LIMIT} / ${LEADS_LIMIT} found`)).toBeVisible();
  // Nothing left mid-qualifying once completed; every candidate ended handed off, held or rejected.
  for (const stage of ['discovered', 'assessed', 'enriched'])
    await expect(page.getByTestId(`stage-${stage}`)).toHaveText('0');
  await expect(page.getByTestId('sourcing-eta')).toContainText(/Finished .*GMT\+1/);
  await expect(page.getByRole('button', { name: 'Cancel run' })).toHaveCount(0);
  await expectAccessible(page);
  await screenshot(page, 'sourcing-run');

  // The candidates as the run left them: none still being qualified.
  const candidates = page.getByRole('region', { name: 'Candidates' });
  const table = candidates.getByRole('table', { name: 'Candidates' });
  await expect(table).toContainText('handed off');
  await expect(table).not.toContainText(/discovered|assessed|enriched/);
  // Keyset pages of 25: more than one page of candidates, and back.
  await expect(table.getByRole('row')).toHaveCount(26);
  const firstLead = await table.getByRole('rowheader').first().innerText();
  await candidates.getByRole('button', { name: 'Next page' }).click();
  await expect(candidates).toContainText('Page 2');
  await expect(table.getByRole('rowheader').first()).not.toHaveText(firstLead, { useInnerText: true });
  expect(await table.getByRole('row').count()).toBeGreaterThanOrEqual(1 + LEADS_LIMIT - 25);
  await expect(candidates.getByRole('button', { name: 'Next page' })).toBeDisabled();
  await candidates.getByRole('button', { name: 'Previous page' }).click();
  await expect(table.getByRole('rowheader').first()).toHaveText(firstLead, { useInnerText: true });
  // Tier A: handed off as contacts, each score explained rule by rule.
  await candidates.getByLabel('Tier').selectOption('A');
  const rows = candidates.getByRole('table', { name: 'Candidates' }).getByRole('row');
  await expect(rows.nth(1)).toContainText('handed off');
  const tierA = await rows.count();
  expect(tierA).toBeGreaterThan(1);
  for (let i = 1; i < tierA; i += 1) {
    await expect(rows.nth(i).getByRole('cell').nth(2)).toHaveText('A');
    await expect(rows.nth(i)).toContainText('+40 site answers');
  }
  // Rejected by the job's hand-off (C and D), none left to select.
  await candidates.getByLabel('Tier').selectOption('');
  await candidates.getByLabel('Stage').selectOption('rejected');
  await expect(rows.nth(1)).toContainText('rejected');
  for (let i = 1; i < (await rows.count()); i += 1)
    expect(['C', 'D']).toContain(await rows.nth(i).getByRole('cell').nth(2).innerText());
  await expect(candidates.getByRole('checkbox')).toHaveCount(0);
  await page.setViewportSize({ width: 390, height: 844 });
  await expectNoSidewaysScroll(page);
  await page.setViewportSize({ width: 1280, height: 800 });
});

test('a held tier-B candidate approved from the page becomes a contact', async ({ page }) => {
  await openCompletedLeadsRun(page);
  const candidates = page.getByRole('region', { name: 'Candidates' });
  await candidates.getByLabel('Tier').selectOption('B');
  const held = candidates.getByRole('row').filter({ has: page.getByRole('checkbox') });
  await expect(held.first()).toContainText('held');
  const heldBefore = await held.count();
  const lead = held.first().getByRole('rowheader');
  const name = (await lead.innerText()).split('\n')[0] ?? '';
  expect(name).not.toBe('');
  await held.first().getByRole('checkbox').check();
  await candidates.getByRole('button', { name: 'Approve selected (1)' }).click();
  await expect(candidates.getByTestId('decisions')).toHaveText(/Handed off 1\./);
  // The row now reads handed off, no longer selectable, and links to its new contact.
  const row = candidates.getByRole('row').filter({ has: page.getByRole('rowheader', { name: name }) });
  await expect(row).toContainText('handed off');
  await expect(held).toHaveCount(heldBefore - 1);
  await row.getByRole('link', { name }).click();
  await expect(page).toHaveURL(/\/console\/contacts\/[0-9a-f-]{36}$/);
  await expect(page.getByRole('heading', { level: 1 })).not.toHaveText('Contact');
  await expect(page.getByText('lead-tier:B')).toBeVisible();
  await expectAccessible(page);
  await screenshot(page, 'approved-lead-contact');
});

test('candidates the beat closed as not qualified are put back from the run page and qualified again', async ({
  page,
}) => {
  await openCompletedLeadsRun(page);
  const runId = /leads\/runs\/([0-9a-f-]{36})/.exec(page.url())?.[1];
  expect(runId).toBeDefined();
  // What the beat leaves after an hour of failed qualify jobs (no API call makes it): three of
  // the run's candidates closed as not qualified.
  const db = new Client({ connectionString: f.databaseUrl });
  await db.connect();
  try {
    const closed = await db.query<{ id: string }>(
      `UPDATE candidates SET reason = 'not qualified: its qualify job was lost from the queue (recovered 3 times by the beat without moving on)'
        WHERE id IN (SELECT id FROM candidates WHERE run_id = $1 AND stage = 'rejected' ORDER BY id LIMIT 3)
        RETURNING id`,
      [runId],
    );
    expect(closed.rowCount).toBe(3);
    await page.reload();
    const requalify = page.getByRole('button', { name: 'Requalify 3 not qualified' });
    await requalify.click();
    await expect(page.getByTestId('requalified')).toHaveText('Requalified 3; the run is running.');
    // The worker scores nothing again (their scores stand) and hands them off by their tier
    // (C and D: rejected by the job's plan), and the run completes again.
    await expect(page.getByTestId('sourcing-status')).toHaveText('completed', { timeout: 60_000 });
    await expect(requalify).toHaveCount(0);
    const after = await db.query<{ stage: string; reason: string | null }>(
      `SELECT stage, reason FROM candidates WHERE id = ANY ($1::uuid[])`,
      [closed.rows.map((r) => r.id)],
    );
    expect(after.rows).toEqual(Array(3).fill({ stage: 'rejected', reason: 'tier_rejected' }));
    await expectAccessible(page);
  } finally {
    await db.end();
  }
});

test('the analytics page shows the funnel and the campaign’s step, variants and experiment as the seeded campaign produced them', async ({
  page,
}) => {
  const m = f.metrics;
  await signIn(page, f.url, m.key);
  await page.goto(at('/'));
  await page.getByRole('link', { name: 'Analytics' }).click();
  await expect(page.getByRole('heading', { name: 'Analytics' })).toBeVisible();
  const funnel = page.getByRole('list', { name: 'Funnel stages' });
  await expect(funnel.getByTestId('funnel-sent')).toContainText(`Sent${m.sent}`);
  await expect(funnel.getByTestId('funnel-delivered')).toContainText(
    `Delivered${m.delivered}75% of the stage before`,
  );
  await expect(funnel.getByTestId('funnel-replied')).toContainText(`Replied${m.replied}`);
  await expect(funnel.getByTestId('funnel-converted')).toContainText(`Converted${m.converted}`);
  await expect(funnel.getByTestId('funnel-sourced')).toContainText('Sourced0');
  await expect(page.getByTestId('funnel-revenue')).toHaveText(`Revenue: ${m.revenue}`);

  await page.getByLabel('Campaign', { exact: true }).selectOption({ label: m.campaign });
  const steps = page.getByRole('table', { name: 'By step' });
  const step1 = steps.getByRole('row', { name: /^Step 1/ });
  // targeted, sent, delivered, opened, clicked, replied, converted, reply rate
  await expect(step1.getByRole('cell')).toHaveText([
    String(m.sent),
    String(m.sent),
    String(m.delivered),
    String(m.opened),
    String(m.clicked),
    String(m.replied),
    String(m.converted),
    '25%',
  ]);
  const variants = page.getByRole('table', { name: 'By variant' });
  // Each contact gets a variant by a hash of its (random) id: which one varies, the total does not.
  await expect(variants.getByRole('rowheader').first()).toBeVisible();
  for (const header of await variants.getByRole('rowheader').allInnerTexts())
    expect(['long', 'short', 'All']).toContain(header);
  await expect(variants.getByRole('row', { name: /^All/ }).getByRole('cell').nth(1)).toHaveText(
    String(m.sent),
  );
  const experiment = page.getByTestId('experiment-step-1');
  await expect(experiment).toContainText('No winner yet');
  await expect(experiment.getByRole('table', { name: 'Variants of step 1' }).getByRole('row')).toHaveCount(3);
  await expectAccessible(page);
  await screenshot(page, 'analytics');

  // A range before the campaign counts nothing.
  await page.getByLabel('From', { exact: true }).fill('2020-01-01');
  await page.getByLabel('To', { exact: true }).fill('2020-01-31');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(funnel.getByTestId('funnel-sent')).toContainText('Sent0');
  await expect(page.getByText('Nothing counted for this campaign in the range.')).toBeVisible();
});

test('a run whose directory does not answer can be paused, resumed and cancelled from its page, its account paused and resumed', async ({
  page,
}) => {
  await signIn(page, f.url, f.tenant.key);
  await page.goto(at('/leads'));
  const job = page
    .getByRole('region', { name: 'Sourcing jobs' })
    .getByRole('listitem')
    .filter({ hasText: STALLED_JOB });
  await job.getByRole('button', { name: `Start a run of ${STALLED_JOB}` }).click();
  await expect(page.getByRole('heading', { name: 'Sourcing run' })).toBeVisible();
  await expect(page.getByTestId('sourcing-status')).toHaveText(/^(queued|running)$/);
  await page.getByRole('button', { name: 'Pause run' }).click();
  await expect(page.getByTestId('sourcing-status')).toHaveText('paused');
  await expect(page.getByTestId('sourcing-eta')).toContainText('Paused');
  await page.getByRole('button', { name: 'Resume run' }).click();
  await expect(page.getByTestId('sourcing-status')).not.toHaveText('paused');
  await expect(page.getByRole('button', { name: 'Pause run' })).toBeVisible();
  await page.getByRole('button', { name: 'Cancel run' }).click();
  await expect(page.getByTestId('sourcing-status')).toHaveText('cancelled');
  await expect(page.getByRole('button', { name: /Pause run|Resume run|Cancel run/ })).toHaveCount(0);
  await expectAccessible(page);

  // Back on the Leads page, the job's latest run reads cancelled.
  await page.getByRole('link', { name: 'Leads' }).first().click();
  await expect(job).toContainText('cancelled');
  // Its account paused and resumed from the Leads page: the status follows, as the api has it.
  const account = page
    .getByRole('region', { name: 'Source accounts' })
    .getByRole('listitem')
    .filter({ hasText: 'Stalled directory' });
  await account.getByRole('button', { name: 'Pause Stalled directory' }).click();
  await expect(account.getByRole('button', { name: 'Resume Stalled directory' })).toBeVisible();
  await expect(account).toContainText('paused');
  await account.getByRole('button', { name: 'Resume Stalled directory' }).click();
  await expect(account.getByRole('button', { name: 'Pause Stalled directory' })).toBeVisible();
  await expect(account).toContainText('active');
});
