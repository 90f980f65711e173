/**
 * Build of the dashboard: `npx vite build --config src/dashboard/vite.config.ts` → dist/dashboard/,
 * served by the API under /ui (see serve.ts). Everything is bundled: no CDN, no external fonts.
 */
import { resolve } from 'node:path';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';
import { precompressPlugin } from './precompress.ts';

const here = import.meta.dirname;

export default defineConfig({
  root: here,
  base: '/ui/',
  publicDir: resolve(here, 'public'),
  // Brotli and gzip copies of every text file, which serve.ts sends to browsers that accept them.
  plugins: [preact(), precompressPlugin()],
  build: {
    outDir: resolve(here, '../../dist/dashboard'),
    emptyOutDir: true,
    // The CSP allows only same-origin scripts: no inline module-preload polyfill.
    modulePreload: { polyfill: false },
    // Below this size assets would be inlined as data: URLs, which the CSP need not allow.
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  server: {
    // `npx vite --config src/dashboard/vite.config.ts` for UI work against a running `herald serve`.
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
});
