import AxeBuilder from '@axe-core/playwright';
import { expect, type Page } from '@playwright/test';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

export const SCREENSHOTS = join(__dirname, '../../test-results/console');

/** Signs the page's browser context in with a key, as the sign-in form does (the cookie lands in the context). */
export async function signIn(page: Page, baseUrl: string, key: string): Promise<void> {
  const answer = await page.request.post(`${baseUrl}/v1/sessions`, { data: { key } });
  expect(answer.status()).toBe(201);
}

/** No serious or critical axe violation on the page as it is now. */
export async function expectAccessible(page: Page): Promise<void> {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  const serious = results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
  expect(serious).toEqual([]);
}

/** Saves a full-page screenshot as test-results/console/<name>.png (kept as a CI artifact). */
export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Nothing wider than the viewport (readable at 390 px without sideways scrolling of the page). */
export async function expectNoSidewaysScroll(page: Page): Promise<void> {
  // Runs in the page (DOM globals there; this program has Node types only).
  const overflow = await page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
  expect(overflow).toBeLessThanOrEqual(0);
}
