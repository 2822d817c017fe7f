import { expect, test } from '@playwright/test';
import { fleet } from './fleet';
import { expectAccessible, expectNoSidewaysScroll, screenshot, signIn } from './support';

const f = fleet();
const at = (path: string) => `${f.url}/console${path}`;

test.describe.configure({ mode: 'serial' });

test('signs in with a pasted key; the key is kept nowhere in the browser', async ({ page }) => {
  await page.goto(`${f.url}/`);
  await expect(page).toHaveURL(at('/'));
  await expect(page.getByRole('heading', { name: 'Sign in to Herald' })).toBeVisible();
  await expectAccessible(page);
  await screenshot(page, 'sign-in');

  await page.getByLabel('API key').fill('hk_not_a_real_key_0000000000000000000000');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toContainText('Sign-in failed');

  await page.getByLabel('API key').fill(f.tenant.key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }));
  expect(stored).not.toContain(f.tenant.key);
  const cookies = await page.context().cookies();
  expect(cookies.find((c) => c.name === 'herald_session')).toMatchObject({
    httpOnly: true,
    sameSite: 'Strict',
  });

  // A reload keeps the session (the CSRF token is fetched again, never stored).
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  await expectAccessible(page);
});

test('creates a broadcast, forecasts it, starts it and watches it reach done', async ({ page }) => {
  await signIn(page, f.url, f.tenant.key);
  await page.goto(at('/campaigns'));
  await page.getByRole('link', { name: 'New campaign' }).click();
  await expect(page.getByRole('heading', { name: 'New campaign' })).toBeVisible();
  await page.getByLabel('Name', { exact: true }).fill('December newsletter');
  await page.getByLabel('Sender account').selectOption({ label: 'Newsletter sender' });
  await page.getByLabel('Subject', { exact: true }).fill('News for {{ first_name }}');
  await page
    .getByLabel('Body', { exact: true })
    .fill('Hello {{ first_name }}, here is what happened in December.');
  await page.getByLabel(/^Tags/).fill('newsletter');
  await expectAccessible(page);
  await screenshot(page, 'campaign-new');
  await page.getByRole('button', { name: 'Create campaign' }).click();
  await expect(page.getByRole('heading', { name: 'December newsletter' })).toBeVisible();

  await page.getByRole('button', { name: /Dry run/ }).click();
  await expect(page.getByRole('heading', { name: 'Dry run' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Forecast' })).toBeVisible();
  await expect(page.getByRole('img', { name: /Deliveries by day/ })).toBeVisible();
  // The message preview: the subject rendered for a real contact.
  await expect(
    page.getByRole('cell', { name: /^News for (Ada|Grace|Alan|Edsger|Barbara|Donald)$/ }).first(),
  ).toBeVisible();
  await expectAccessible(page);
  await screenshot(page, 'dry-run');

  await page.getByRole('link', { name: 'December newsletter' }).click();
  await page.getByRole('button', { name: 'Start run' }).click();
  await expect(page.getByRole('heading', { name: /^Run$/ })).toBeVisible();
  await expect(page.getByTestId('run-status')).toHaveText('completed', { timeout: 30_000 });
  await expect(page.getByTestId('count-sent')).toHaveText('12');
  // The run's deliveries from the ledger, by status: the twelve sent ones.
  const deliveries = page.getByRole('region', { name: 'Deliveries' });
  await deliveries.getByLabel('Status').selectOption('sent');
  await expect(deliveries.getByRole('row')).toHaveCount(13);
  await deliveries.getByLabel('Status').selectOption('failed');
  await expect(deliveries).toContainText('No deliveries with that status.');
  await expectAccessible(page);
  await screenshot(page, 'run-done');

  await page.goto(at('/campaigns'));
  await expect(page.getByRole('link', { name: 'December newsletter' })).toBeVisible();
  await expectAccessible(page);
  await screenshot(page, 'campaigns');
});

test('a quota-limited run shows deferral and its ETA with the reason on the run and the overview, and can be cancelled', async ({
  page,
}) => {
  await signIn(page, f.url, f.tenant.key);
  await page.goto(at('/campaigns/new'));
  await page.getByLabel('Name', { exact: true }).fill('VIP invitations');
  await page.getByLabel('Sender account').selectOption({ label: 'Small quota' });
  await page.getByLabel('Subject', { exact: true }).fill('An invitation, {{ first_name }}');
  await page.getByLabel('Body', { exact: true }).fill('You are invited.');
  await page.getByLabel(/^Tags/).fill('vip');
  await page.getByRole('button', { name: 'Create campaign' }).click();
  await expect(page.getByRole('heading', { name: 'VIP invitations' })).toBeVisible();
  await page.getByRole('button', { name: 'Start run' }).click();

  // Two of five fit the hourly quota of 2; the rest wait for it to reset.
  await expect(page.getByTestId('count-sent')).toHaveText('2', { timeout: 30_000 });
  await expect(page.getByTestId('count-deferred')).toHaveText('3');
  await expect(page.getByTestId('run-eta')).toContainText(/ETA .*GMT\+1 — quota/);
  const runUrl = page.url();

  await page.goto(at('/'));
  const card = page.getByRole('listitem').filter({ hasText: 'VIP invitations' });
  await expect(card.getByTestId('run-eta')).toContainText('quota');
  await expect(card.getByTestId('count-deferred')).toHaveText('3');
  await expectAccessible(page);
  await screenshot(page, 'overview');

  await page.setViewportSize({ width: 390, height: 844 });
  await expectNoSidewaysScroll(page);
  await screenshot(page, 'overview-390');
  await page.setViewportSize({ width: 1280, height: 800 });

  await page.goto(runUrl);
  await page.getByRole('button', { name: 'Cancel run' }).click();
  await expect(page.getByTestId('run-status')).toHaveText('cancelled', { timeout: 30_000 });
  await expect(page.getByRole('button', { name: 'Cancel run' })).toHaveCount(0);
});

test('imports a CSV with one bad row and shows that row’s error', async ({ page }) => {
  await signIn(page, f.url, f.tenant.key);
  await page.goto(at('/contacts'));
  await expect(page.getByRole('heading', { name: 'Contacts', exact: true })).toBeVisible();
  const csv = [
    'email,first_name,last_name,tags',
    'new.one@example.test,New,One,imported',
    'not-an-email,Bad,Row,imported',
    'new.two@example.test,New,Two,imported',
  ].join('\r\n');
  await page
    .getByLabel('CSV file')
    .setInputFiles({ name: 'contacts.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.getByRole('button', { name: 'Import' }).click();
  const result = page.getByTestId('import-result');
  await expect(result).toContainText('Created 2, updated 0, failed 1.');
  const errors = result.getByRole('table', { name: 'Rows that were not imported' });
  await expect(errors.getByRole('row')).toHaveCount(2);
  await expect(errors.getByRole('row').nth(1)).toContainText('email');
  await expect(page.getByRole('progressbar', { name: 'Import progress' })).toHaveAttribute('value', '3');

  await page.getByLabel('Search', { exact: true }).fill('new.one');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page.getByRole('link', { name: 'new.one@example.test' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'reader0@example.test' })).toHaveCount(0);
  await expectAccessible(page);
  await screenshot(page, 'contacts');

  // A contact the December newsletter reached: its timeline shows the delivery.
  await page.getByLabel('Search', { exact: true }).fill('reader0@');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.getByRole('link', { name: 'reader0@example.test' }).click();
  await expect(page.getByRole('heading', { name: 'Timeline' })).toBeVisible();
  await expect(page.getByRole('listitem').filter({ hasText: 'delivery' }).first()).toContainText('sent');
  await expectAccessible(page);
  await screenshot(page, 'contact');
});

test('another tenant’s run is not found', async ({ page }) => {
  await signIn(page, f.url, f.tenant.key);
  await page.goto(at(`/runs/${f.other.runId}`));
  await expect(page.getByRole('alert')).toContainText('Not found');
  await expectAccessible(page);
});

test('sender accounts show quota gauges with reset times and circuit state', async ({ page }) => {
  await signIn(page, f.url, f.tenant.key);
  await page.goto(at('/senders'));
  const small = page.getByRole('listitem').filter({ hasText: 'Small quota' });
  await expect(small.getByRole('meter', { name: /Small quota hourly/ })).toBeVisible();
  await expect(small).toContainText(/resets .*GMT\+1/);
  await expect(small).toContainText(/Circuit:\s*closed/);
  // Pause and resume: the account's status follows, as the api has it.
  await small.getByRole('button', { name: 'Pause Small quota' }).click();
  await expect(small.getByRole('button', { name: 'Resume Small quota' })).toBeVisible();
  await expect(small).toContainText(/paused/i);
  await small.getByRole('button', { name: 'Resume Small quota' }).click();
  await expect(small.getByRole('button', { name: 'Pause Small quota' })).toBeVisible();
  await expectAccessible(page);
  await screenshot(page, 'senders');
  await page.setViewportSize({ width: 390, height: 844 });
  await expectNoSidewaysScroll(page);
});

test('the platform view shows queues, workers and their heartbeats, and circuits for the admin key', async ({
  page,
}) => {
  await signIn(page, f.url, f.adminKey);
  await page.goto(at('/'));
  await expect(page.getByRole('heading', { name: 'Platform' })).toBeVisible();
  await expect(page.getByRole('rowheader', { name: 'deliveries' })).toBeVisible();
  // The fleet's one worker, with its heartbeat.
  const workers = page.getByRole('region', { name: 'Workers' });
  await expect(workers.getByRole('row')).toHaveCount(2);
  await expect(workers.getByRole('row').nth(1)).toContainText('deliveries');
  // Every tenant of the deployment.
  const tenants = page.getByRole('region', { name: 'Tenants' });
  await expect(tenants).toContainText('Acme Outreach');
  await expect(tenants).toContainText('Other Co');
  await expectAccessible(page);
  await screenshot(page, 'platform');
});
