import { ExpressAdapter } from '@nestjs/platform-express';
import express from 'express';

/**
 * The HTTP adapter every Herald app is created with: routes match their declared spelling
 * only — `/V1/contacts`, `/v1/contacts/` and `/Metrics` are not routes (404) — so no spelling
 * of a path can reach a handler by another route's rules. Express builds its router from these
 * settings the first time anything is mounted, and the adapter mounts a hook at once: so the
 * instance is made and set here, before the adapter sees it.
 */
export function strictHttpAdapter(): ExpressAdapter {
  const instance = express();
  instance.set('case sensitive routing', true);
  instance.set('strict routing', true);
  return new ExpressAdapter(instance);
}
