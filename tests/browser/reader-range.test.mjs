// A large PDF (about 50 MB, 300 pages) shows its first page before the whole file arrives: the
// reader asks the box for pieces with Range requests. The PDF is made here, with Chromium's print
// to PDF: 300 pages of Vietnamese text, each with its own image of random (incompressible)
// pixels. The secretary uploads it to a meeting, which is then published; a paired delegate opens
// it in the reader while every response for the file is recorded (status, Content-Range, bytes).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BIN, Box, apiAs, launchChromium, newTablet, pairTablet, withBoxLog } from './helpers.mjs';

const ROOM = 'Phòng họp UBND xã Nà Tấu';
const SECRETARY = { username: 'thuky', name: 'Lường Thị Hoa', password: 'thuky-mat-khau-2', role: 'secretary' };
const CHAIR = { username: 'chutri', name: 'Quàng Văn Dũng', password: 'chutri-mat-khau-2', role: 'chair' };
const PAGES = 300;
/** What we aim for; the test checks the real size lands near it. */
const TARGET_BYTES = 50 * 1024 * 1024;
/** Words only page 1 has, looked for in its text layer. */
const PAGE_ONE_WORDS = 'QUYẾT TOÁN NGÂN SÁCH';


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

/**
 * 300 A4 pages, each with a heading, Vietnamese paragraphs and its own image of random pixels
 * (the same image twice would be stored once) of `pixelsPerPage` pixels, 3 bytes each in the PDF.
 */
async function makeBigPdf(browser, file, { pixelsPerPage }) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.setContent(`<!doctype html><html lang="vi"><meta charset="utf-8">
      <style>
        @page { size: A4; margin: 15mm; }
        body { margin: 0; font: 13pt serif; }
        section { break-after: page; }
        img { display: block; width: 100%; height: 150mm; image-rendering: pixelated; }
      </style><body></body></html>`);
    await page.evaluate(
      ({ pages, pixels, firstWords }) => {
        const w = Math.round(Math.sqrt(pixels * 1.3));
        const h = Math.round(pixels / w);
        const canvas = document.createElement('canvas');
        canvas.width = w;
        canvas.height = h;
        const ctx = canvas.getContext('2d');
        const img = ctx.createImageData(w, h);
        const text =
          'Căn cứ Luật Ngân sách nhà nước, Ủy ban nhân dân xã báo cáo tình hình thực hiện thu, chi ngân sách xã; ' +
          'đề nghị Hội đồng nhân dân xã xem xét, phê chuẩn quyết toán theo quy định.';
        for (let n = 1; n <= pages; n++) {
          for (let off = 0; off < img.data.length; off += 65536) crypto.getRandomValues(img.data.subarray(off, Math.min(img.data.length, off + 65536)));
          for (let i = 3; i < img.data.length; i += 4) img.data[i] = 255;
          ctx.putImageData(img, 0, 0);
          const section = document.createElement('section');
          const h1 = document.createElement('h1');
          h1.textContent = n === 1 ? `BÁO CÁO ${firstWords} XÃ NĂM 2025` : `Phụ lục ${n - 1}: số liệu chi tiết`;
          const p = document.createElement('p');
          p.textContent = `Trang ${n}/${pages}. ${text}`;
          const im = document.createElement('img');
          im.src = canvas.toDataURL('image/png');
          im.alt = '';
          section.append(h1, p, im);
          document.body.append(section);
        }
      },
      { pages: PAGES, pixels: pixelsPerPage, firstWords: PAGE_ONE_WORDS },
    );
    await page.waitForFunction(() => [...document.images].every((i) => i.complete));
    fs.writeFileSync(file, await page.pdf({ format: 'A4', preferCSSPageSize: true }));
  } finally {
    await context.close();
  }
}


describe('reading a large PDF', () => {
  /** @type {Box} */
  let box;
  let chrome;
  let desk;
  let tmp;
  let meeting;
  let doc;
  let delegate;
  let fileSize;

  before(async () => {
    box = await Box.create({ room: ROOM });
    // Staff accounts and the upload limit go in while the box is stopped.
    await box.stop();
    for (const a of [SECRETARY, CHAIR]) {
      execFileSync(BIN, ['admin', 'create', '--data', box.dataDir, '--username', a.username, '--name', a.name, '--role', a.role, '--password', a.password], {
        stdio: 'pipe',
        timeout: 60_000,
      });
    }
    const toml = path.join(box.dataDir, 'phonghop.toml');
    const had = fs.existsSync(toml) ? fs.readFileSync(toml, 'utf8') : '';
    fs.writeFileSync(toml, `${had.replace(/^max_upload_mb\s*=.*\n?/m, '')}${had && !had.endsWith('\n') ? '\n' : ''}max_upload_mb = 100\n`);
    await box.start();

    chrome = await launchChromium(box.caPem);
    desk = await apiAs(box, SECRETARY);
    const chair = await apiAs(box, CHAIR);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'phonghop-range-'));

    const chairPerson = await desk.call('POST', '/api/people', { name: CHAIR.name, position: 'Chủ tịch UBND xã' });
    delegate = await desk.call('POST', '/api/people', { name: 'Lò Thị Mai', position: 'Ủy viên UBND xã' });
    const body = await desk.call('POST', '/api/bodies', { name: 'UBND xã Nà Tấu', kind: 'ubnd' });
    await desk.call('PUT', `/api/bodies/${body.id}/members`, { members: [chairPerson.id, delegate.id] });
    const startsAt = new Date(Date.now() + 7 * 86_400_000);
    startsAt.setUTCHours(1, 0, 0, 0);
    meeting = await desk.call('POST', '/api/meetings', {
      body_id: body.id,
      title: 'Kỳ họp HĐND xã: quyết toán ngân sách năm 2025',
      starts_at: startsAt.toISOString().replace('.000Z', 'Z'),
      chair_id: chairPerson.id,
    });
    const item = await desk.call('POST', `/api/meetings/${meeting.id}/items`, { title: 'Quyết toán ngân sách xã năm 2025', presenter: 'Công chức Tài chính - Kế toán' });

    // About 50 MB: the image bytes per page are what make the size, so aim them at it.
    const file = path.join(tmp, 'quyet-toan-ngan-sach-2025.pdf');
    const perPage = Math.round(TARGET_BYTES / PAGES / 3) - 800;
    await makeBigPdf(chrome.browser, file, { pixelsPerPage: perPage });
    fileSize = fs.statSync(file).size;
    assert.ok(fileSize > 45 * 1024 * 1024 && fileSize < 60 * 1024 * 1024, `the PDF is about 50 MB: ${fileSize} bytes`);

    const up = await postFile(box, `/api/meetings/${meeting.id}/items/${item.id}/documents?title=${encodeURIComponent('Báo cáo quyết toán ngân sách xã năm 2025')}`, file, {
      Cookie: desk.cookie,
      'Content-Type': 'application/pdf',
      'X-File-Name': encodeURIComponent('quyết toán ngân sách 2025.pdf'),
    });
    assert.equal(up.status, 201, up.text);
    doc = JSON.parse(up.text);
    assert.equal(doc.versions.at(-1).size, fileSize);

    await desk.call('POST', `/api/meetings/${meeting.id}/submit`);
    await chair.call('POST', `/api/meetings/${meeting.id}/approve`);
    await desk.call('POST', `/api/meetings/${meeting.id}/publish`);
  });

  after(async () => {
    await chrome?.close();
    await box?.destroy();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('page 1 of a 50 MB, 300-page PDF shows after a small part of the file, fetched with Range', { timeout: 120_000 }, (t) =>
    withBoxLog(box, async () => {
      const { context, page } = await pairTablet(chrome.browser, desk, delegate, '1357');
      try {
        const blobPath = new URL(doc.versions.at(-1).url, box.origin).pathname;
        // Every response for the file, from the DevTools protocol: status, headers, and the bytes
        // as they arrive (a request given up half way counts what it received).
        const cdp = await context.newCDPSession(page);
        await cdp.send('Network.enable');
        // The page's session sees the requests of its dedicated workers too (pdf.js fetches there).
        /** @type {Map<string, {status: number|null, range: string|null, contentRange: string|null, length: number|null, bytes: number, done: string|null}>} */
        const responses = new Map();
        let received = 0;
        let firstRequestAt = null;
        cdp.on('Network.requestWillBeSent', (e) => {
          if (new URL(e.request.url).pathname === blobPath) {
            firstRequestAt ??= Date.now();
            responses.set(e.requestId, { status: null, range: e.request.headers.Range ?? e.request.headers.range ?? null, contentRange: null, length: null, bytes: 0, done: null });
          }
        });
        cdp.on('Network.responseReceived', (e) => {
          const r = responses.get(e.requestId);
          if (!r) return;
          const h = Object.fromEntries(Object.entries(e.response.headers).map(([k, v]) => [k.toLowerCase(), v]));
          r.status = e.response.status;
          r.contentRange = h['content-range'] ?? null;
          r.length = h['content-length'] ? Number(h['content-length']) : null;
        });
        cdp.on('Network.dataReceived', (e) => {
          const r = responses.get(e.requestId);
          if (!r) return;
          r.bytes += e.dataLength;
          received += e.dataLength;
        });
        cdp.on('Network.loadingFinished', (e) => {
          const r = responses.get(e.requestId);
          if (r) r.done = 'finished';
        });
        cdp.on('Network.loadingFailed', (e) => {
          const r = responses.get(e.requestId);
          if (r) r.done = e.canceled ? 'canceled' : `failed: ${e.errorText}`;
        });

        const started = Date.now();
        await page.goto(`${box.origin}/read/${meeting.id}/${doc.id}`);
        // Page 1 is drawn: a canvas with ink, read in one go (a redraw may replace the canvas).
        const drawn = await (
          await page.waitForFunction(
            () => {
              const c = document.querySelector('[data-testid="reader-page-1"] canvas');
              if (!(c instanceof HTMLCanvasElement) || c.width === 0) return null;
              const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
              let dark = 0;
              for (let i = 0; i < data.length; i += 4) if (data[i] < 128) dark++;
              return dark > 500 ? { w: c.width, h: c.height, dark } : null;
            },
            null,
            { timeout: 60_000, polling: 50 },
          )
        ).jsonValue();
        const shownAt = Date.now();
        const bytesAtFirstPage = received;
        const atFirstPage = [...responses.values()].map((r) => ({ ...r }));
        await page.getByTestId('reader-page-1').locator('.textLayer').waitFor({ timeout: 30_000 });
        const words = await page.getByTestId('reader-page-1').locator('.textLayer').innerText();
        // pdf.js may split a word around its accented letters: compare without spaces.
        const squash = (x) => x.normalize('NFC').replace(/\s+/g, '');
        assert.ok(squash(words).includes(squash(PAGE_ONE_WORDS)), `the text layer of page 1 has its words: ${words}`);
        const pages = Number((await page.getByTestId('reader-page').innerText()).match(/\/\s*(\d+)/)?.[1]);
        assert.equal(pages, PAGES);

        const figures = {
          fileBytes: fileSize,
          firstPageMs: shownAt - started,
          firstPageMsFromFirstRequest: firstRequestAt === null ? null : shownAt - firstRequestAt,
          bytesAtFirstPage,
          shareAtFirstPage: `${((bytesAtFirstPage / fileSize) * 100).toFixed(2)} %`,
          requests: atFirstPage.length,
          canvas: drawn,
        };
        t.diagnostic(`figures: ${JSON.stringify(figures)}`);
        t.diagnostic(`responses before page 1: ${JSON.stringify(atFirstPage.map((r) => [r.status, r.contentRange ?? r.range, r.bytes, r.done]))}`);

        const ranged = atFirstPage.filter((r) => r.status === 206 && /^bytes \d+-\d+\/\d+$/.test(r.contentRange ?? ''));
        assert.ok(ranged.length >= 2, `page 1 came in Range pieces (206 with Content-Range): ${JSON.stringify(atFirstPage)}`);
        for (const r of ranged) assert.ok(r.contentRange.endsWith(`/${fileSize}`), `Content-Range says the whole size: ${r.contentRange}`);
        assert.ok(bytesAtFirstPage < fileSize * 0.25, `page 1 after ${bytesAtFirstPage} of ${fileSize} bytes (${figures.shareAtFirstPage})`);
      } finally {
        await context.close();
      }
    }));
});
