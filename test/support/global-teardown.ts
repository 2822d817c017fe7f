import type { Infrastructure } from '@herald/testing';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __heraldInfra?: Infrastructure }).__heraldInfra?.stop();
}
