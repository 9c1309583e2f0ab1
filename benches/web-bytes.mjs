// Bytes a tablet pulls from the box for the web app, as sent on the wire (response bodies),
// before and after precompressed assets: "before" asks without Accept-Encoding, which is what the
// box sent to every browser until it chose an encoding; "after" asks as Chromium and Safari do.
// Which files a step loads is read from what the box serves (its embedded build): the first
// visit is index.html and everything it loads statically; a first document open adds the
// reader's chunk and styles, pdf.js and its worker (scanned-page decoders and fonts load only for
// such PDFs and are left out).
// Usage: node benches/web-bytes.mjs https://localhost:PORT path/to/root.pem
import fs from 'node:fs';
import https from 'node:https';

const [base, caFile] = process.argv.slice(2);
const ca = fs.readFileSync(caFile);
function get(url, acceptEncoding) {
  return new Promise((resolve, reject) => {
    const headers = acceptEncoding ? { 'Accept-Encoding': acceptEncoding } : {};
    https
      .get(new URL(url, base), { ca, headers }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`${url}: ${res.statusCode}`));
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ body: Buffer.concat(chunks), encoding: res.headers['content-encoding'] ?? 'identity' }));
      })
      .on('error', reject);
  });
}
const text = async (url) => (await get(url, null)).body.toString('utf8');
const bytes = async (url, acceptEncoding) => {
  const r = await get(url, acceptEncoding);
  return { n: r.body.length, encoding: r.encoding };
};

/** The files and every chunk they import statically, recursively. */
async function closure(files) {
  const seen = new Set();
  const todo = [...files];
  while (todo.length) {
    const f = todo.pop();
    if (seen.has(f)) continue;
    seen.add(f);
    if (!f.endsWith('.js')) continue;
    for (const m of (await text(f)).matchAll(/(?:from|import)\s*["']\.\/([^"']+\.js)["']/g)) todo.push(`/assets/${m[1]}`);
  }
  return seen;
}

const index = await text('/');
const shell = [...index.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
const firstVisit = ['/', ...(await closure(shell))];
const loaded = new Set(firstVisit);
// The reader, pdf.js and its worker, as the app's own chunks name them.
const all = (await Promise.all([...loaded].filter((f) => f.endsWith('.js')).map(text))).join('\n');
const find = (src, re) => {
  const m = src.match(re);
  if (!m) throw new Error(`not found: ${re}`);
  return `/assets/${m[1]}`;
};
const readerJs = find(all, /["'`](?:\.\/|assets\/)(Reader-[\w-]+\.js)["'`]/);
const readerCss = find(all, /["'`]assets\/(Reader-[\w-]+\.css)["'`]/);
const readerSrc = await text(readerJs);
const pdfJs = find(readerSrc, /["'`]\.\/(readerPdf-[\w-]+\.js)["'`]/);
const worker = find(await text(pdfJs), /["'`]\/assets\/(readerWorker-[\w-]+\.js)["'`]/);
const reader = [...(await closure([readerJs, readerCss, pdfJs, worker]))].filter((f) => !loaded.has(f));

const kB = (n) => `${(n / 1024).toFixed(0)} kB`;
async function step(name, files) {
  let before = 0;
  let br = 0;
  let gz = 0;
  for (const f of files) {
    before += (await bytes(f, null)).n;
    br += (await bytes(f, 'gzip, deflate, br')).n;
    gz += (await bytes(f, 'gzip, deflate')).n;
  }
  console.log(
    `${name.padEnd(22)} ${String(files.length).padStart(2)} files  before ${kB(before).padStart(8)}  after ${kB(br).padStart(7)} (br)  ${kB(gz).padStart(7)} (gzip only)  ${(before / br).toFixed(1)}x less`,
  );
  return { before, br };
}

const v = await step('first visit', firstVisit);
const d = await step('first document open', reader);
const w0 = (await bytes(worker, null)).n;
const w1 = await bytes(worker, 'gzip, deflate, br');
console.log(`pdf.js worker          ${kB(w0)} → ${kB(w1.n)} (${w1.encoding})`);
const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
console.log(
  `30 tablets, first visit and first document: before ${mb(30 * (v.before + d.before))}, after ${mb(30 * (v.br + d.br))}`,
);
