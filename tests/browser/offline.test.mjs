// The tablet reads with no network (issue 11, offline): a paired delegate opens a meeting, taps
// "Tải về để đọc trước" and waits for "Đã tải 3/3 tài liệu"; then the network goes
// (`context.setOffline(true)`), the meeting page is reloaded — the app shell and the meeting come
// from the service worker — the live parts say they need the room's Wi-Fi, and a document never
// opened before opens in the reader from the cache, page 1 drawn with its words. Back online the
// app works as before; a new version of a downloaded document replaces the old one in the cache;
// "Xóa bản tải về" empties it. Throughout, no cache holds a write or a live feed, the feeds never
// come from the service worker, and a staff account's pages leave nothing of theirs in the caches.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Box, addStaff, apiAs, draftMeeting, launchChromium, newTablet, pairTablet, printPdf, publishMeeting, screenshots, uploadPdf, waitForText, withBoxLog, waitForServiceWorker } from './helpers.mjs';

const SECRETARY = { username: 'thuky', name: 'Trần Thị Thu', password: 'thuky-demo-1', role: 'secretary' };
const CHAIR = { username: 'chutich', name: 'Nguyễn Văn An', password: 'chutich-demo-1', role: 'chair' };

/** Every cache of the page's origin: name → the method and path of each entry. */
async function cacheContents(page) {
  return page.evaluate(async () => {
    const out = {};
    for (const name of await caches.keys()) {
      const cache = await caches.open(name);
      out[name] = (await cache.keys()).map((r) => `${r.method} ${new URL(r.url).pathname}`);
    }
    return out;
  });
}

/** Page 1 drawn with ink: the canvas read in one go (a redraw may replace it). */
async function pageOneDrawn(page) {
  return (
    await page.waitForFunction(
      () => {
        const c = document.querySelector('[data-testid="reader-page-1"] canvas');
        if (!(c instanceof HTMLCanvasElement) || c.width === 0) return null;
        const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
        let dark = 0;
        for (let i = 0; i < data.length; i += 4) if (data[i] < 128) dark++;
        return dark > 200 ? dark : null;
      },
      null,
      { timeout: 20_000, polling: 100 },
    )
  ).jsonValue();
}

const squash = (x) => x.normalize('NFC').replace(/\s+/g, '');

describe('offline: download to read ahead', () => {
  let box;
  let chrome;
  let desk;
  let meeting;
  let people;
  const docs = {};

  before(async () => {
    box = await Box.create({ room: 'Phòng họp UBND xã Tân Phú' });
    await addStaff(box, [SECRETARY, CHAIR]);
    chrome = await launchChromium(box.caPem);
    desk = await apiAs(box, SECRETARY);
    ({ meeting, people } = await draftMeeting(desk, { people: [['an', 'Nguyễn Văn An'], ['binh', 'Trần Thị Bình']], startsInMinutes: 24 * 60, chair: 'an' }));
    const one = await desk.call('POST', `/api/meetings/${meeting.id}/items`, { title: 'Dự toán ngân sách', presenter: 'Tài chính', duration_minutes: 30 });
    const two = await desk.call('POST', `/api/meetings/${meeting.id}/items`, { title: 'Công trình thủy lợi', presenter: 'Địa chính', duration_minutes: 20 });
    const up = async (item, title, pages, file) =>
      uploadPdf(box, desk.cookie, `/api/meetings/${meeting.id}/items/${item.id}/documents?title=${encodeURIComponent(title)}`, await printPdf(chrome.browser, pages), file);
    docs.budget = await up(one, 'Tờ trình dự toán', ['<h1>DỰ TOÁN NGÂN SÁCH XÃ</h1>', '<h1>Phụ lục</h1>'], 'du-toan.pdf');
    docs.report = await up(one, 'Báo cáo thu chi', ['<h1>BÁO CÁO THU CHI</h1>'], 'bao-cao.pdf');
    docs.canal = await up(two, 'Tờ trình kênh mương', ['<h1>KIÊN CỐ HÓA KÊNH MƯƠNG THỦY LỢI</h1><p>Thôn Bản Phố.</p>', '<h1>Dự toán chi tiết</h1>'], 'kenh-muong.pdf');
    await publishMeeting(desk, await apiAs(box, CHAIR), meeting.id);
  });

  after(async () => {
    await chrome?.close();
    await box?.destroy();
  });

  test('a downloaded meeting opens, and a document never opened is read, with no network', { timeout: 90_000 }, () =>
    withBoxLog(box, async () => {
      const { context, page } = await pairTablet(chrome.browser, desk, people.binh, '2468');
      try {
        const problems = [];
        page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
        /** Every response the page saw: where it came from. */
        const seen = [];
        page.on('response', (r) => seen.push({ method: r.request().method(), path: new URL(r.url()).pathname, fromSw: r.fromServiceWorker(), status: r.status() }));

        // The app installs its service worker, which takes this page over.
        await waitForServiceWorker(page);
        const manifest = await page.evaluate(async () => {
          const link = document.querySelector('link[rel="manifest"]');
          const res = await fetch(link.href);
          return { type: res.headers.get('content-type'), json: await res.json() };
        });
        assert.equal(manifest.type, 'application/manifest+json');
        assert.equal(manifest.json.name, 'Phòng họp không giấy');
        assert.equal(manifest.json.short_name, 'Phòng họp');
        assert.equal(manifest.json.display, 'standalone');
        assert.deepEqual(manifest.json.icons.map((i) => `${i.sizes} ${i.purpose}`), ['192x192 any', '512x512 any', '512x512 maskable']);

        await page.goto(`${box.origin}/meetings/${meeting.id}`);
        await waitForText(page.getByTestId('meeting-title'), meeting.title);
        await waitForText(page.getByTestId('offline-status'), 'Chưa tải');
        // One document is read online first; another is the one opened offline.
        await page.locator(`[data-doc-id="${docs.budget.id}"]`).getByTestId('delegate-doc-open').click();
        await pageOneDrawn(page);
        await page.goBack();
        // A document not downloaded goes straight to the box: the worker does not stand in the way
        // (a request pdf.js drops is dropped on the network too).
        const sha = (d) => d.versions.at(-1).sha256;
        const direct = seen.filter((r) => r.path === `/api/blobs/${sha(docs.budget)}`);
        assert.ok(direct.length > 0 && direct.every((r) => !r.fromSw), `read from the box, not the worker: ${JSON.stringify(direct)}`);

        await page.getByTestId('offline-download').click();
        await waitForText(page.getByTestId('offline-status'), /^Đã tải 3\/3 tài liệu, \d+([,.]\d)? kB$/, { timeout: 20_000 });
        await waitForText(page.getByTestId('offline-persisted'), /^Bộ nhớ bền vững: (có|không)$/);
        await waitForText(page.getByTestId('offline-storage'), /^Bộ nhớ đã dùng: .+ \/ .+ MB/);
        await screenshots(page, 'offline-downloaded');
        const cached = await cacheContents(page);
        assert.deepEqual(
          [...cached[`phonghop-docs-${meeting.id}`]].sort(),
          [docs.budget, docs.report, docs.canal].map((d) => `GET /api/blobs/${sha(d)}`).sort(),
          'the meeting cache holds its three documents',
        );

        // No network at all: the shell, the meeting and the documents come from the tablet.
        await context.setOffline(true);
        const offlineFrom = seen.length;
        await page.reload();
        await waitForText(page.getByTestId('meeting-title'), meeting.title, { timeout: 15_000 });
        await waitForText(page.getByTestId('needs-wifi'), /^Cần kết nối Wi-Fi phòng họp/);
        await waitForText(page.getByTestId('offline-status'), /^Đã tải 3\/3 tài liệu/);
        await screenshots(page, 'offline-meeting');

        await page.locator(`[data-doc-id="${docs.canal.id}"]`).getByTestId('delegate-doc-open').click();
        await page.waitForURL(`${box.origin}/read/${meeting.id}/${docs.canal.id}`);
        const dark = await pageOneDrawn(page);
        assert.ok(dark > 200, 'page 1 is drawn');
        await page.getByTestId('reader-page-1').locator('.textLayer').waitFor({ timeout: 15_000 });
        const words = await page.getByTestId('reader-page-1').locator('.textLayer').innerText();
        assert.ok(squash(words).includes(squash('KIÊN CỐ HÓA KÊNH MƯƠNG')), `the text layer has the words of page 1: ${words}`);
        await screenshots(page, 'offline-reader');
        const offlineBlobs = seen.slice(offlineFrom).filter((r) => r.path === `/api/blobs/${sha(docs.canal)}`);
        assert.ok(offlineBlobs.length > 0 && offlineBlobs.every((r) => r.fromSw), `the document came from the service worker: ${JSON.stringify(offlineBlobs)}`);
        // pdf.js reads a file this small whole; a Range request, as it makes for large files, is
        // cut from the cached copy.
        const ranged = await page.evaluate(async (url) => {
          const res = await fetch(url, { headers: { Range: 'bytes=100-199' } });
          return { status: res.status, range: res.headers.get('content-range'), bytes: (await res.arrayBuffer()).byteLength };
        }, docs.canal.versions.at(-1).url);
        assert.deepEqual(ranged, { status: 206, range: `bytes 100-199/${docs.canal.versions.at(-1).size}`, bytes: 100 });

        // Back online: the live feed connects to the box again and the notice goes.
        await context.setOffline(false);
        await page.goto(`${box.origin}/meetings/${meeting.id}`);
        await page.locator('[data-testid="connection-status"][data-status="connected"]').waitFor({ timeout: 15_000 });
        await waitForText(page.getByTestId('meeting-title'), meeting.title);
        await page.getByTestId('needs-wifi').waitFor({ state: 'hidden', timeout: 15_000 });

        // A new version of a downloaded document: fetched again, the old one dropped.
        const newer = await uploadPdf(box, desk.cookie, `/api/documents/${docs.budget.id}/versions`, await printPdf(chrome.browser, ['<h1>DỰ TOÁN NGÂN SÁCH XÃ (SỬA)</h1>']), 'du-toan-sua.pdf');
        assert.notEqual(sha(newer), sha(docs.budget));
        await page.waitForFunction(
          async ({ id, fresh, stale }) => {
            const keys = (await (await caches.open(`phonghop-docs-${id}`)).keys()).map((r) => new URL(r.url).pathname);
            return keys.includes(`/api/blobs/${fresh}`) && !keys.includes(`/api/blobs/${stale}`) && keys.length === 3;
          },
          { id: meeting.id, fresh: sha(newer), stale: sha(docs.budget) },
          { timeout: 15_000, polling: 200 },
        );
        await waitForText(page.getByTestId('offline-status'), /^Đã tải 3\/3 tài liệu/);

        // Nothing but GETs of the shell, the delegate's JSON and documents is kept; no feed.
        const all = await cacheContents(page);
        const entries = Object.values(all).flat();
        assert.ok(entries.length > 20, `the shell is precached: ${Object.keys(all)}`);
        assert.deepEqual(entries.filter((e) => !e.startsWith('GET ')), [], 'no write is cached');
        assert.deepEqual(entries.filter((e) => /\/events$|\/live|\/questions|\/attendance|\/seats/.test(e)), [], 'no feed or live answer is cached');
        // The reader read the delegate's marks on the meeting (kept to read them offline).
        assert.deepEqual(
          [...all['phonghop-api']].sort(),
          ['GET /api/me', `GET /api/meetings`, `GET /api/meetings/${meeting.id}`, `GET /api/meetings/${meeting.id}/annotations`].sort(),
        );
        const feeds = seen.filter((r) => r.path.endsWith('/events'));
        assert.ok(feeds.length > 0, 'the page read its feeds');
        assert.deepEqual(feeds.filter((r) => r.fromSw), [], 'no feed came from the service worker');
        const writes = seen.filter((r) => r.method !== 'GET' && r.fromSw);
        assert.deepEqual(writes, [], 'no write went through a cache');

        // "Xóa bản tải về" empties this meeting's cache.
        await page.getByTestId('offline-clear').click();
        await waitForText(page.getByTestId('offline-status'), 'Chưa tải');
        assert.equal(await page.evaluate((id) => caches.has(`phonghop-docs-${id}`), meeting.id), false);
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    }));

  test("a staff account's pages leave only the shell in the caches", { timeout: 60_000 }, () =>
    withBoxLog(box, async () => {
      const context = await newTablet(chrome.browser);
      try {
        const page = await context.newPage();
        await page.goto(`${box.origin}/desk`);
        await page.locator('#signin-username').fill(SECRETARY.username);
        await page.locator('#signin-password').fill(SECRETARY.password);
        await page.locator('form button[type="submit"]').click();
        await page.waitForURL(`${box.origin}/desk`);
        await waitForServiceWorker(page);
        await page.goto(`${box.origin}/desk/meetings/${meeting.id}/prepare`);
        await page.getByText(meeting.title).first().waitFor({ timeout: 15_000 });
        // The staff screens' reads have been answered by now; none of them was kept.
        const all = await cacheContents(page);
        const kept = Object.entries(all).filter(([name]) => !name.startsWith('workbox-precache'));
        assert.deepEqual(kept.filter(([, e]) => e.length > 0), [], `only the shell: ${JSON.stringify(kept)}`);
      } finally {
        await context.close();
      }
    }));
});
