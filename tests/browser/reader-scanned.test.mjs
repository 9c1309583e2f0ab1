// A scanned PDF as scanners and office tools write it: 50 MB, 300 pages, NOT linearized, each
// page's objects (page, content, image) next to its large image, spread through the file, the
// page tree a flat list of 300 kids. Page 1 must be drawn after at most 5 % of the file
// (issue 8, item 9): pdf.js must not touch every page before the first (vite.config.ts,
// pdfjsLazyPages). The time to page 1 at 20 Mbit/s (Chromium's network throttling) is reported
// as a figure; benches/reader-scanned.sh runs this file for it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BIN, Box, apiAs, launchChromium, newTablet, pairTablet, withBoxLog } from './helpers.mjs';

const ROOM = 'Phòng họp UBND xã Nà Tấu';
const RATE_BPS = 20_000_000 / 8; // 20 Mbit/s, for the figure
const SECRETARY = { username: 'thuky', name: 'Lường Thị Hoa', password: 'thuky-mat-khau-2', role: 'secretary' };
const CHAIR = { username: 'chutri', name: 'Quàng Văn Dũng', password: 'chutri-mat-khau-2', role: 'chair' };
const PAGES = 300;


/** Streams a file to the box the way the desk uploads (Node, trusting only the box's CA). */
function postFile(box, pathname, file, headers) {
  const size = fs.statSync(file).size;
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${box.origin}${pathname}`,
      { method: 'POST', ca: box.caPem, headers: { Accept: 'application/json', Origin: box.origin, 'Content-Length': size, ...headers } },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    fs.createReadStream(file).on('error', reject).pipe(req);
  });
}


/** Writes the PDF by hand: catalog, flat page tree, then per page: image, content, page. */
function makeScannedPdf(file, { pages, imageBytes }) {
  const side = Math.floor(Math.sqrt(imageBytes / 3));
  const fd = fs.openSync(file, 'w');
  let pos = 0;
  const offsets = [];
  const write = (buf) => {
    const b = typeof buf === 'string' ? Buffer.from(buf, 'latin1') : buf;
    fs.writeSync(fd, b);
    pos += b.length;
  };
  const obj = (n, body, stream) => {
    offsets[n] = pos;
    write(`${n} 0 obj\n${body}\n`);
    if (stream) {
      write('stream\n');
      write(stream);
      write('\nendstream\n');
    }
    write('endobj\n');
  };
  write('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n');
  const pageObj = (i) => 4 + i * 3 + 2;
  obj(1, '<< /Type /Catalog /Pages 2 0 R >>');
  obj(2, `<< /Type /Pages /Count ${pages} /Kids [${Array.from({ length: pages }, (_, i) => `${pageObj(i)} 0 R`).join(' ')}] >>`);
  obj(3, '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>');
  for (let i = 0; i < pages; i++) {
    const img = 4 + i * 3;
    // Noise, as a scan's grain: it does not compress, so the bytes are really there.
    const pixels = crypto.randomBytes(side * side * 3);
    obj(img, `<< /Type /XObject /Subtype /Image /Width ${side} /Height ${side} /ColorSpace /DeviceRGB /BitsPerComponent 8 /Length ${pixels.length} >>`, pixels);
    const text = `BT /F1 28 Tf 60 780 Td (TRANG ${i + 1}) Tj ET q 480 0 0 480 57 200 cm /Im0 Do Q`;
    obj(img + 1, `<< /Length ${text.length} >>`, Buffer.from(text, 'latin1'));
    obj(img + 2, `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> /XObject << /Im0 ${img} 0 R >> >> /Contents ${img + 1} 0 R >>`);
  }
  const count = 4 + pages * 3;
  const xref = pos;
  write(`xref\n0 ${count}\n0000000000 65535 f \n`);
  for (let n = 1; n < count; n++) write(`${String(offsets[n]).padStart(10, '0')} 00000 n \n`);
  write(`trailer\n<< /Size ${count} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`);
  fs.closeSync(fd);
}

describe('reading a large scanned PDF that is not linearized', () => {
  let box;
  let chrome;
  let desk;
  let tmp;
  let meeting;
  let doc;
  let delegate;
  let delegate2;
  let fileSize;

  before(async () => {
    box = await Box.create({ room: ROOM });
    await box.stop();
    for (const a of [SECRETARY, CHAIR]) {
      execFileSync(BIN, ['admin', 'create', '--data', box.dataDir, '--username', a.username, '--name', a.name, '--role', a.role, '--password', a.password], { stdio: 'pipe', timeout: 60_000 });
    }
    const toml = path.join(box.dataDir, 'phonghop.toml');
    const had = fs.existsSync(toml) ? fs.readFileSync(toml, 'utf8') : '';
    fs.writeFileSync(toml, `${had.replace(/^max_upload_mb\s*=.*\n?/m, '')}${had && !had.endsWith('\n') ? '\n' : ''}max_upload_mb = 100\n`);
    await box.start();
    chrome = await launchChromium(box.caPem);
    desk = await apiAs(box, SECRETARY);
    const chair = await apiAs(box, CHAIR);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'phonghop-scan-'));
    const chairPerson = await desk.call('POST', '/api/people', { name: CHAIR.name });
    delegate = await desk.call('POST', '/api/people', { name: 'Lò Thị Mai' });
    delegate2 = await desk.call('POST', '/api/people', { name: 'Cầm Văn Pọm' });
    const body = await desk.call('POST', '/api/bodies', { name: 'UBND xã Nà Tấu', kind: 'ubnd' });
    await desk.call('PUT', `/api/bodies/${body.id}/members`, { members: [chairPerson.id, delegate.id, delegate2.id] });
    meeting = await desk.call('POST', '/api/meetings', { body_id: body.id, title: 'Kỳ họp', starts_at: new Date(Date.now() + 7 * 86_400_000).toISOString(), chair_id: chairPerson.id });
    const item = await desk.call('POST', `/api/meetings/${meeting.id}/items`, { title: 'Hồ sơ quét', presenter: 'Văn phòng' });
    const file = path.join(tmp, 'ho-so-quet.pdf');
    makeScannedPdf(file, { pages: PAGES, imageBytes: Math.round((50 * 1024 * 1024) / PAGES) - 600 });
    fileSize = fs.statSync(file).size;
    assert.ok(fileSize > 45 * 1024 * 1024 && fileSize < 60 * 1024 * 1024, `about 50 MB: ${fileSize}`);
    const up = await postFile(box, `/api/meetings/${meeting.id}/items/${item.id}/documents?title=${encodeURIComponent('Hồ sơ quét 300 trang')}`, file, {
      Cookie: desk.cookie,
      'Content-Type': 'application/pdf',
      'X-File-Name': 'ho-so-quet.pdf',
    });
    assert.equal(up.status, 201, up.text);
    doc = JSON.parse(up.text);
    await desk.call('POST', `/api/meetings/${meeting.id}/submit`);
    await chair.call('POST', `/api/meetings/${meeting.id}/approve`);
    await desk.call('POST', `/api/meetings/${meeting.id}/publish`);
  });

  after(async () => {
    await chrome?.close();
    await box?.destroy();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  for (const throttled of [false, true]) {
    if (throttled && !process.env.PHONGHOP_THROTTLE) continue;
    test(`page 1 after at most 5 % of the file${throttled ? ', at 20 Mbit/s' : ''}`, { timeout: 180_000 }, (t) =>
      withBoxLog(box, async () => {
        const { context, page } = await pairTablet(chrome.browser, desk, throttled ? delegate2 : delegate, '1357');
        try {
          const blobPath = new URL(doc.versions.at(-1).url, box.origin).pathname;
          const cdp = await context.newCDPSession(page);
          await cdp.send('Network.enable');
          if (throttled) await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 5, downloadThroughput: RATE_BPS, uploadThroughput: RATE_BPS });
          let received = 0;
          let requests = 0;
          cdp.on('Network.requestWillBeSent', (e) => {
            if (new URL(e.request.url).pathname === blobPath) requests++;
          });
          const ids = new Set();
          cdp.on('Network.requestWillBeSent', (e) => {
            if (new URL(e.request.url).pathname === blobPath) ids.add(e.requestId);
          });
          cdp.on('Network.dataReceived', (e) => {
            if (ids.has(e.requestId)) received += e.dataLength;
          });
          const started = Date.now();
          await page.goto(`${box.origin}/read/${meeting.id}/${doc.id}`);
          await page.waitForFunction(
            () => {
              const c = document.querySelector('[data-testid="reader-page-1"] canvas');
              if (!(c instanceof HTMLCanvasElement) || c.width === 0) return false;
              const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
              let dark = 0;
              for (let i = 0; i < data.length; i += 4) if (data[i] < 128) dark++;
              return dark > 500;
            },
            null,
            { timeout: 150_000, polling: 50 },
          );
          const ms = Date.now() - started;
          const share = received / fileSize;
          t.diagnostic(`figures: ${JSON.stringify({ throttled, fileBytes: fileSize, bytesAtFirstPage: received, share: `${(share * 100).toFixed(2)} %`, requests, firstPageMs: ms })}`);
          assert.ok(share <= 0.05, `page 1 after ${received} of ${fileSize} bytes (${(share * 100).toFixed(1)} %, ${requests} requests)`);
          const pagesShown = Number((await page.getByTestId('reader-page').innerText()).match(/\/\s*(\d+)/)?.[1]);
          assert.equal(pagesShown, PAGES);
        } finally {
          await context.close();
        }
      }),
    );
  }
});
