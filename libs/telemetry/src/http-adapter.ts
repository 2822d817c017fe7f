import { ExpressAdapter } from '@nestjs/platform-express';
import type { Express } from 'express';

/**
 * The HTTP adapter every Herald app is created with: routes match their declared spelling
 * only — `/V1/contacts`, `/v1/contacts/` and `/Metrics` are not routes (404) — so no spelling
 * of a path can reach a handler by another route's rules. Set before Nest registers anything:
 * Express builds its router lazily from these settings on first use.
 */
export function strictHttpAdapter(): ExpressAdapter {
  const adapter = new ExpressAdapter();
  const express = adapter.getInstance<Express>();
  express.set('case sensitive routing', true);
  express.set('strict routing', true);
  return adapter;
}
