import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
const repo = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The console: static assets the api serves at /console (same origin, so the session cookie and
 * no CORS). Vite's own oxc transform compiles TSX (no React plugin: its Babel peer clashes with
 * jest's); nothing is fetched from outside at runtime, so it works offline.
 */
export default defineConfig({
  root,
  base: '/console/',
  publicDir: false,
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic' } },
  resolve: { alias: { '@herald/api-client': `${repo}libs/api-client/src/index.ts` } },
  build: {
    outDir: `${repo}dist/apps/console`,
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: false,
    sourcemap: false,
    rolldownOptions: {
      checks: { pluginTimings: false },
      // react-query marks its hooks "use client" for server-component bundlers; a SPA has no server side.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  // `npx vite --config apps/console/vite.config.ts` during development: the api on :3000 answers /v1.
  server: { proxy: { '/v1': 'http://127.0.0.1:3000' } },
});
