// Builds the web app into web/dist, which the Rust binary embeds (rust-embed) and serves at `/`.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { defineConfig, type Plugin } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { precompress } from './build/precompress';

/**
 * Copies what pdf.js fetches by name at run time (the decoders of scanned pages and the standard
 * fonts) to assets/pdfjs-<version>/, next to the hashed files; see src/lib/readerPdf.ts.
 */
function pdfjsAssets(): Plugin {
  const root = dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'));
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const wanted: Record<string, (name: string) => boolean> = {
    wasm: (n) => /^(jbig2|openjpeg|qcms_bg)\.wasm$|_nowasm_fallback\.js$/.test(n),
    standard_fonts: (n) => /\.(pfb|ttf)$|^LICENSE/.test(n),
  };
  const prefix = `/assets/pdfjs-${version}/`;
  return {
    name: 'phonghop-pdfjs-assets',
    // `npm run dev` serves the same files from node_modules.
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const [dir, name] = (req.url ?? '').startsWith(prefix) ? (req.url ?? '').slice(prefix.length).split('/') : [];
        if (!dir || !name || !wanted[dir]?.(name)) return next();
        res.setHeader('Content-Type', name.endsWith('.js') ? 'text/javascript' : name.endsWith('.wasm') ? 'application/wasm' : 'application/octet-stream');
        res.end(readFileSync(join(root, dir, name)));
      });
    },
    generateBundle() {
      for (const [dir, keep] of Object.entries(wanted)) {
        for (const name of readdirSync(join(root, dir)).filter(keep)) {
          this.emitFile({ type: 'asset', fileName: `assets/pdfjs-${version}/${dir}/${name}`, source: readFileSync(join(root, dir, name)) });
        }
      }
    },
  };
}

export default defineConfig({
  plugins: [svelte(), pdfjsAssets(), precompress()],
  // pdf.js's worker is a module worker (it imports its decoders on demand).
  worker: { format: 'es' },
  build: {
    // Commune tablets are often old: iPadOS 16 Safari and Android Chrome 100.
    target: ['safari16', 'chrome100'],
    outDir: 'dist',
    // Hashed file names under /assets/ are served with immutable caching by the box.
    assetsDir: 'assets',
    emptyOutDir: true,
    // Keep the first load small; a warning if a chunk grows past this (kB).
    chunkSizeWarningLimit: 200,
  },
  server: {
    // `npm run dev` against a running box: PHONGHOP_URL=https://localhost:8443 npm run dev
    proxy: {
      '/api': {
        target: process.env.PHONGHOP_URL ?? 'https://localhost:8443',
        secure: false,
        changeOrigin: true,
      },
    },
  },
});
