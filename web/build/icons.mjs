// Draws the app's icons (web/public/icons/*.png) with no dependencies: a white document with
// text lines on the brand blue. Run once with `node build/icons.mjs`; the PNGs are committed.
// "any" icons have rounded corners; the maskable one fills the square and keeps the document
// inside the central 80 % safe zone.
import { writeFileSync, mkdirSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const BRAND = [0x0b, 0x3a, 0x82];
const WHITE = [0xff, 0xff, 0xff];
const LINE = [0x9d, 0xb3, 0xd6];

const CRC = new Int32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});
function crc32(buf) {
  let c = -1;
  for (const b of buf) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}
function png(size, pixel) {
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    for (let x = 0; x < size; x++) {
      const [r, g, b, a] = pixel(x + 0.5, y + 0.5);
      raw.set([r, g, b, a], y * (size * 4 + 1) + 1 + x * 4);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

/** Inside a rounded rectangle (all in units of the icon's side). */
function inRound(u, v, x0, y0, x1, y1, r) {
  const cx = Math.min(Math.max(u, x0 + r), x1 - r);
  const cy = Math.min(Math.max(v, y0 + r), y1 - r);
  return u >= x0 && u <= x1 && v >= y0 && v <= y1 && (u - cx) ** 2 + (v - cy) ** 2 <= r * r;
}

/** The icon at unit coordinates; `scale` shrinks the document towards the centre. */
function icon(size, { rounded, scale }) {
  return png(size, (x, y) => {
    const u = x / size;
    const v = y / size;
    if (rounded && !inRound(u, v, 0, 0, 1, 1, 0.18)) return [0, 0, 0, 0];
    // The document, in a 0..1 box centred at 0.5 and scaled.
    const du = (u - 0.5) / scale + 0.5;
    const dv = (v - 0.5) / scale + 0.5;
    if (inRound(du, dv, 0.24, 0.14, 0.76, 0.86, 0.04)) {
      for (const [ly, lx1] of [[0.3, 0.66], [0.42, 0.66], [0.54, 0.66], [0.66, 0.52]]) {
        if (inRound(du, dv, 0.34, ly - 0.025, lx1, ly + 0.025, 0.02)) return [...LINE, 255];
      }
      return [...WHITE, 255];
    }
    return [...BRAND, 255];
  });
}

const dir = new URL('../public/icons/', import.meta.url);
mkdirSync(dir, { recursive: true });
writeFileSync(new URL('icon-192.png', dir), icon(192, { rounded: true, scale: 1 }));
writeFileSync(new URL('icon-512.png', dir), icon(512, { rounded: true, scale: 1 }));
writeFileSync(new URL('maskable-512.png', dir), icon(512, { rounded: false, scale: 0.78 }));
writeFileSync(new URL('apple-touch-icon-180.png', dir), icon(180, { rounded: false, scale: 0.9 }));
