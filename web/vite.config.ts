// Builds the web app into web/dist, which the Rust binary embeds (rust-embed) and serves at `/`.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { defineConfig, type Plugin } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { VitePWA } from 'vite-plugin-pwa';
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

/**
 * Two small changes to pdf.js's worker so that page 1 of a large PDF that is not linearized
 * (scanners and office tools write most of them so) needs only page 1's objects (issue 8,
 * item 9; tests/browser/reader-scanned.test.mjs). Upstream pdf.js, before the document opens,
 * (1) looks up the LAST page to check the page count, and (2) while finding any page, prefetches
 * every top-level page object in parallel: with each page's objects next to its image, spread
 * through the file, both touch every page, about 40 % of a 50 MB file before page 1 is drawn.
 * Here (1) is skipped (a wrong /Count then fails on that page only, when it is opened) and (2)
 * prefetches only the kids up to the page asked for. The build fails if pdf.js changes these lines.
 */
function pdfjsLazyPages(): Plugin {
  const edits: [string, string][] = [
    ['    await this.ensureDoc("checkLastPage", [recoveryMode]);\n', '    /* phonghop: no checkLastPage before the first page */\n'],
    [
      'if (currentNode === this.toplevelPagesDict && lastKid instanceof Ref && !pageDictCache.has(lastKid)) {',
      'if (currentNode === this.toplevelPagesDict && last <= pageIndex - currentPageIndex && lastKid instanceof Ref && !pageDictCache.has(lastKid)) {',
    ],
  ];
  return {
    name: 'phonghop-pdfjs-lazy-pages',
    enforce: 'pre',
    transform(code, id) {
      if (!/pdfjs-dist[\\/]legacy[\\/]build[\\/]pdf\.worker\.mjs/.test(id)) return null;
      let out = code;
      for (const [from, to] of edits) {
        if (!out.includes(from)) this.error(`pdf.js changed: "${from.trim()}" not found; see pdfjsLazyPages in vite.config.ts`);
        out = out.replace(from, to);
      }
      return { code: out, map: null };
    },
  };
}

/**
 * The installable app (issue 11): the web manifest, and the service worker src-sw/sw.ts built
 * with Workbox, its precache list injected from the build's files. The page registers it itself
 * (src/lib/offline.svelte.ts): the CSP has no inline scripts.
 */
function installable(): Plugin[] {
  return VitePWA({
    strategies: 'injectManifest',
    srcDir: 'src-sw',
    filename: 'sw.ts',
    injectRegister: false,
    includeManifestIcons: false,
    manifest: {
      id: '/',
      name: 'Phòng họp không giấy',
      short_name: 'Phòng họp',
      description: 'Tài liệu, điểm danh, phát biểu và biểu quyết của cuộc họp trên máy tính bảng.',
      lang: 'vi',
      dir: 'ltr',
      start_url: '/meetings',
      scope: '/',
      display: 'standalone',
      orientation: 'any',
      // --brand-bg and --bg in src/app.css.
      theme_color: '#0b3a82',
      background_color: '#ffffff',
      icons: [
        { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
        { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
        { src: '/icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
      ],
    },
    injectManifest: {
      // The shell: chunks, styles, pdf.js's worker, decoders and fonts, the icons. Never the
      // precompressed copies (the box picks those per request).
      globPatterns: ['**/*.{html,js,mjs,css,wasm,pfb,ttf,png,webmanifest}'],
      globIgnores: ['**/*.br', '**/*.gz'],
      // pdf.js's worker is the largest file (about 1.5 MB).
      maximumFileSizeToCacheInBytes: 8 * 1024 * 1024,
      // Hashed names under assets/ need no revision of their own.
      dontCacheBustURLsMatching: /^assets\//,
      // A classic script: module service workers need Safari 16.4+.
      rollupFormat: 'iife',
    },
  });
}

export default defineConfig({
  plugins: [svelte(), pdfjsAssets(), pdfjsLazyPages(), installable(), precompress()],
  // pdf.js's worker is a module worker (it imports its decoders on demand).
  worker: { format: 'es', plugins: () => [pdfjsLazyPages()] },
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
