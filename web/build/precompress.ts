// Precompressed copies of the built web app: next to each text-like file in dist/, a brotli
// (`.br`, quality 11) and a gzip (`.gz`, level 9) copy, kept only when they save at least 10%.
// The box embeds them and picks one by the tablet's Accept-Encoding (appliance/src/http/assets.rs),
// so the room's Wi-Fi carries the pdf.js worker as ~300 kB instead of 1.25 MB, at no CPU cost
// per request.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';

/** Files worth compressing: text, wasm and the fonts pdf.js fetches. Images are already packed. */
const COMPRESSIBLE = /\.(js|mjs|css|html|svg|json|wasm|ttf|pfb|txt|map)$/;
/** Below this, the saving is smaller than a packet. */
const MIN_BYTES = 1024;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

export function precompress(): Plugin {
  let outDir = 'dist';
  return {
    name: 'phonghop-precompress',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    closeBundle() {
      let before = 0;
      let afterBr = 0;
      for (const path of files(outDir)) {
        if (!COMPRESSIBLE.test(path)) continue;
        const data = readFileSync(path);
        if (data.length < MIN_BYTES) continue;
        const br = brotliCompressSync(data, {
          params: {
            [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
            [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
          },
        });
        const gz = gzipSync(data, { level: 9 });
        before += data.length;
        afterBr += Math.min(br.length, data.length);
        if (br.length <= data.length * 0.9) writeFileSync(`${path}.br`, br);
        if (gz.length <= data.length * 0.9) writeFileSync(`${path}.gz`, gz);
      }
      this.info(`precompressed ${(before / 1024).toFixed(0)} kB of assets to ${(afterBr / 1024).toFixed(0)} kB (brotli)`);
    },
  };
}
