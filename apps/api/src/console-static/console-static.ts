import type { HeraldConfig } from '@herald/config';
import { RequestContext, type ServerPorts } from '@herald/telemetry';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Where the console is served; the SPA is built with this base. */
export const CONSOLE_PATH = '/console';

/** Vite puts content-hashed files here: cacheable for good. */
const ASSETS_DIR = '/assets/';
const LONG_CACHE = 'public, max-age=31536000, immutable';

/**
 * Only the console's own origin: its scripts, styles, fonts and API calls are same-origin
 * bundle files (nothing from outside, works offline). `img-src` also allows `data:` for images
 * the bundler inlines. No `upgrade-insecure-requests`: dev serves plain http on loopback.
 */
const CONSOLE_CSP = helmet.contentSecurityPolicy({
  useDefaults: false,
  directives: {
    defaultSrc: ["'self'"],
    baseUri: ["'self'"],
    connectSrc: ["'self'"],
    fontSrc: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    imgSrc: ["'self'", 'data:'],
    manifestSrc: ["'self'"],
    objectSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
  },
});

/**
 * Serves the built console (`CONSOLE_DIST_DIR`) at /console, outside Nest's routing, on the
 * public listener only (configure-http declares it like /docs): hashed assets with a long
 * cache, `index.html` revalidated on every load, and any other clean GET under /console
 * answered with `index.html` so the SPA routes it. `/` redirects to the console. A spelling
 * that is not canonical (dot segments, doubled or encoded slashes) and `/console/sign-in`
 * (a Nest route) fall through to Nest, which answers them as it answers any path.
 * No build: 503 problem+json saying how to make one, never a crash.
 */
export function consoleStatic(config: HeraldConfig, ports: ServerPorts) {
  const dir = config.api.consoleDir;
  const index = join(dir, 'index.html');
  const files = express.static(dir, {
    index: false,
    redirect: false,
    fallthrough: true,
    dotfiles: 'ignore',
    setHeaders: (res, path) => {
      res.setHeader('Cache-Control', path.startsWith(join(dir, ASSETS_DIR)) ? LONG_CACHE : 'no-cache');
    },
  });

  const serveIndex = (req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index, { dotfiles: 'deny', lastModified: true }, (error?: Error) => {
      if (error && !res.headersSent) next(error);
    });
  };

  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (ports.listenerOf(req) !== 'public') return next();
    const path = req.originalUrl.split('?')[0]!;
    if (path === '/') {
      res.redirect(302, `${CONSOLE_PATH}/`);
      return;
    }
    if (path === CONSOLE_PATH) {
      res.redirect(301, `${CONSOLE_PATH}/`);
      return;
    }
    if (!path.startsWith(`${CONSOLE_PATH}/`)) return next();
    const rest = path.slice(CONSOLE_PATH.length);
    // The sign-in route is Nest's; its other spellings (`/Sign-in`, `/sign-in/`) must reach no handler there either.
    const lower = rest.toLowerCase();
    if (!isCanonical(rest) || lower === '/sign-in' || lower.startsWith('/sign-in/')) return next();
    CONSOLE_CSP(req, res, (error?: unknown) => {
      if (error) return next(error);
      if (!existsSync(index)) return notBuilt(res, dir);
      // serve-static reads req.url: the path inside the build directory.
      const url = req.url;
      req.url = rest;
      files(req, res, (failure?: unknown) => {
        req.url = url;
        if (failure) return next(failure);
        // Not a file: an asset or file name that is missing is a 404; any other path is the SPA's.
        const last = rest.slice(rest.lastIndexOf('/') + 1);
        if (rest.startsWith(ASSETS_DIR) || last.includes('.')) return notFound(req, res);
        serveIndex(req, res, next);
      });
    });
  };
}

/** No dot segments, doubled, encoded or backslashes, nor anything percent-encoded: one spelling per file. */
function isCanonical(rest: string): boolean {
  if (rest.includes('//') || rest.includes('%') || rest.includes('\\')) return false;
  return !rest.split('/').some((segment) => segment === '.' || segment === '..');
}

function notBuilt(res: Response, dir: string): void {
  problem(
    res,
    503,
    'Service Unavailable',
    'unavailable',
    `The console is not built: run \`npm run build\` (it writes apps/console to dist/apps/console), or point CONSOLE_DIST_DIR at a build. Looked in ${dir}.`,
  );
}

function notFound(req: Request, res: Response): void {
  problem(res, 404, 'Not Found', 'not-found', `No console file ${req.path}.`);
}

function problem(res: Response, status: number, title: string, kind: string, detail: string): void {
  res
    .status(status)
    .setHeader('Cache-Control', 'no-store')
    .type('application/problem+json')
    .json({
      type: `https://herald.dev/problems/${kind}`,
      title,
      status,
      detail,
      errors: [],
      request_id: RequestContext.current().request_id,
    });
}
