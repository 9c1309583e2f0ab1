// Builds the web app into web/dist, which the Rust binary embeds (rust-embed) and serves at `/`.
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

export default defineConfig({
  plugins: [svelte()],
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
