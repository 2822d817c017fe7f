import { defineConfig } from '@playwright/test';

/**
 * The console's browser tests (`npm run test:console`): Debian's Chromium (never a downloaded
 * browser) against one real fleet — api, worker and beat processes on real Postgres and Redis —
 * that test/console/fleet.ts starts once for the whole suite.
 */
export default defineConfig({
  testDir: 'test/console',
  testMatch: '**/*.pw.ts',
  globalSetup: './test/console/fleet.ts',
  outputDir: 'test-results/console/artifacts',
  // One fleet, one browser: the tests share tenants and run in order on 2 cores.
  workers: 1,
  fullyParallel: false,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  use: {
    browserName: 'chromium',
    launchOptions: {
      executablePath: process.env.HERALD_CHROMIUM ?? '/usr/bin/chromium',
      // Root in CI containers has no user namespace for Chromium's sandbox; /dev/shm is small there.
      args: ['--no-sandbox', '--disable-dev-shm-usage'],
    },
    viewport: { width: 1280, height: 800 },
    timezoneId: 'Europe/Paris',
    locale: 'en-GB',
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
});
