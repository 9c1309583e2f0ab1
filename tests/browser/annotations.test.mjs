// Annotations in the reader (issue #11, "Done when" 1 and 3, and the offline queue): a paired
// delegate highlights words on page 2 and draws a pen stroke there, reloads, and finds both marks
// over the same words at another zoom and in landscape; a second delegate sees none of them in
// the reader, gets none from `GET …/annotations` with their own cookie, and their feed carries
// only the mark shared with the meeting. A note written offline,
// in a meeting downloaded to read ahead, with the page closed and opened again before the Wi-Fi
// came back, is still shown from the queue and reaches the box once the tablet is online.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Box, addStaff, apiAs, draftMeeting, launchChromium, pairTablet, printPdf, publishMeeting, screenshots, uploadPdf, waitForText, withBoxLog, openReaderPage2 as openPage2, waitForServiceWorker, waitForCount } from './helpers.mjs';

const SECRETARY = { username: 'thuky', name: 'Trần Thị Thu', password: 'thuky-demo', role: 'secretary' };
const CHAIR = { username: 'chutich', name: 'Nguyễn Văn An', password: 'chutich-demo', role: 'chair' };
const WORDS = 'QUYETTOAN';

/** Boxes of an element and of page 2, and the element's box as fractions of the page. */
async function fractions(page, selector) {
  return page.evaluate((sel) => {
    const p = document.querySelector('[data-testid="reader-page-2"]').getBoundingClientRect();
    return [...document.querySelectorAll(sel)].map((el) => {
      const r = el.getBoundingClientRect();
      return { x1: (r.left - p.left) / p.width, y1: (r.top - p.top) / p.height, x2: (r.right - p.left) / p.width, y2: (r.bottom - p.top) / p.height, w: r.width };
    });
  }, selector);
}

/** The span of page 2's text layer holding WORDS (tagged `data-words`), as fractions of the page. */
async function wordsBox(page) {
  await page.locator('[data-testid="reader-page-2"] .textLayer span', { hasText: WORDS }).first().waitFor({ timeout: 20_000 });
  await page.evaluate((w) => {
    const s = [...document.querySelectorAll('[data-testid="reader-page-2"] .textLayer span')].find((x) => x.textContent.includes(w));
    s.setAttribute('data-words', '');
  }, WORDS);
  const [box] = await fractions(page, '[data-testid="reader-page-2"] .textLayer span[data-words]');
  return box;
}

function near(a, b, tol, what) {
  for (const k of ['x1', 'y1', 'x2', 'y2']) assert.ok(Math.abs(a[k] - b[k]) < tol, `${what}: ${k} ${a[k].toFixed(4)} vs ${b[k].toFixed(4)}`);
}

describe('annotations in the reader', () => {
  /** @type {Box} */
  let box;
  let chrome;
  let desk;
  let meeting;
  let people;
  let doc;
  let url;

  before(async () => {
    box = await Box.create({ room: 'Phòng họp UBND xã Tân Phú' });
    await addStaff(box, [SECRETARY, CHAIR]);
    chrome = await launchChromium(box.caPem);
    desk = await apiAs(box, SECRETARY);
    const chair = await apiAs(box, CHAIR);
    ({ meeting, people } = await draftMeeting(desk, { people: [['an', 'Nguyễn Văn An'], ['binh', 'Trần Thị Bình'], ['cuong', 'Lê Văn Cường']], startsInMinutes: 30, chair: 'an' }));
    const item = await desk.call('POST', `/api/meetings/${meeting.id}/items`, { title: 'Quyết toán ngân sách', presenter: 'Kế toán' });
    const pdf = await printPdf(
      chrome.browser,
      [1, 2, 3].map((n) => `<h1>Trang ${n}</h1><p style="margin-top:40mm">Mục ${n}: ${n === 2 ? WORDS : 'khác'} ngân sách xã năm 2026.</p>`),
      { style: 'font:16pt serif' },
    );
    doc = await uploadPdf(box, desk.cookie, `/api/meetings/${meeting.id}/items/${item.id}/documents?title=${encodeURIComponent('Báo cáo quyết toán')}`, pdf);
    await publishMeeting(desk, chair, meeting.id);
    url = `${box.origin}/read/${meeting.id}/${doc.id}`;
  });

  after(async () => {
    await chrome?.close();
    await box?.destroy();
  });

  test('marks stay on their words at another zoom and in landscape; another delegate sees none; a note written offline reaches the box', { timeout: 180_000 }, (t) =>
    withBoxLog(box, async () => {
      const a = await pairTablet(chrome.browser, desk, people.binh, '2468');
      const page = a.page;
      await page.setViewportSize({ width: 768, height: 1024 });
      await openPage2(page, url);

      // Highlight: select the words in the text layer, then "Đánh dấu".
      const words = await wordsBox(page);
      await page.evaluate(() => {
        const span = document.querySelector('[data-testid="reader-page-2"] .textLayer span[data-words]');
        const r = document.createRange();
        r.selectNodeContents(span);
        const sel = getSelection();
        sel.removeAllRanges();
        sel.addRange(r);
      });
      await page.getByTestId('ann-highlight').click();
      await page.locator('[data-testid="marks-2"] [data-kind="highlight"]').waitFor({ timeout: 5000 });
      const [hl] = await fractions(page, '[data-testid="marks-2"] [data-kind="highlight"]');
      near(hl, words, 0.01, 'the highlight covers the words');

      // Pen: a stroke from 20 % to 70 % across, 60 % down.
      await page.getByTestId('ann-pen').click();
      const p = await page.getByTestId('reader-page-2').boundingBox();
      await page.mouse.move(p.x + p.width * 0.2, p.y + p.height * 0.6);
      await page.mouse.down();
      for (let i = 1; i <= 10; i++) await page.mouse.move(p.x + p.width * (0.2 + 0.05 * i), p.y + p.height * (0.6 + 0.005 * i));
      await page.mouse.up();
      await page.locator('[data-testid="marks-2"] [data-kind="ink"]').waitFor({ timeout: 5000 });
      const [ink] = await fractions(page, '[data-testid="marks-2"] [data-kind="ink"]');
      assert.ok(Math.abs(ink.x1 - 0.2) < 0.02 && Math.abs(ink.x2 - 0.7) < 0.02 && Math.abs(ink.y1 - 0.6) < 0.02, `the stroke is where it was drawn: ${JSON.stringify(ink)}`);

      // A second stroke, undone: only the first stays.
      await page.mouse.move(p.x + p.width * 0.3, p.y + p.height * 0.66);
      await page.mouse.down();
      await page.mouse.move(p.x + p.width * 0.5, p.y + p.height * 0.68, { steps: 5 });
      await page.mouse.up();
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="marks-2"] [data-kind="ink"]').length === 2, null, { timeout: 5000 });
      await page.getByTestId('ann-undo').click();
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="marks-2"] [data-kind="ink"]').length === 1, null, { timeout: 5000 });
      await page.getByTestId('ann-select').click();

      // Both on the box (the undone stroke as an erased tombstone).
      await page.waitForFunction(() => document.querySelector('[data-testid="ann-sync"]')?.textContent.trim() === '', null, { timeout: 10_000 });
      let mine;
      for (let i = 0; i < 40; i++) {
        mine = await page.evaluate((m) => fetch(`/api/meetings/${m}/annotations`).then((r) => r.json()), meeting.id);
        if (mine.annotations.length === 3 && mine.annotations.some((x) => x.deleted)) break;
        await page.waitForTimeout(250);
      }
      const live = mine.annotations.filter((x) => !x.deleted);
      const ids = mine.annotations.map((x) => x.id);
      assert.deepEqual(live.map((x) => x.kind).sort(), ['highlight', 'ink']);
      assert.equal(mine.annotations.filter((x) => x.deleted).length, 1, 'the undone stroke is a tombstone');
      assert.ok(live.every((x) => x.page === 2 && x.sharing === 'private' && x.version_sha256 === doc.versions.at(-1).sha256));

      // Reload, zoom in twice: the same place on the page.
      await openPage2(page, url);
      await page.getByTestId('zoom-in').click();
      await page.getByTestId('zoom-in').click();
      await page.getByTestId('reader-page-2').scrollIntoViewIfNeeded();
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="marks-2"] [data-testid="mark"]').length === 2, null, { timeout: 20_000 });
      const zoomed = await page.evaluate(() => document.querySelector('[data-testid="reader-page-2"]').getBoundingClientRect().width);
      near((await fractions(page, '[data-testid="marks-2"] [data-kind="highlight"]'))[0], await wordsBox(page), 0.01, 'zoomed: the highlight covers the words');
      near((await fractions(page, '[data-testid="marks-2"] [data-kind="ink"]'))[0], ink, 0.01, 'zoomed: the stroke');

      // Landscape.
      await page.setViewportSize({ width: 1024, height: 768 });
      await page.waitForFunction((w) => document.querySelector('[data-testid="reader-page-2"]').getBoundingClientRect().width !== w, zoomed, { timeout: 10_000 });
      await page.getByTestId('reader-page-2').scrollIntoViewIfNeeded();
      await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="reader-page-2"] .textLayer span')].some((s) => s.textContent.includes('QUYETTOAN')), null, { timeout: 20_000 });
      near((await fractions(page, '[data-testid="marks-2"] [data-kind="highlight"]'))[0], await wordsBox(page), 0.01, 'landscape: the highlight covers the words');
      near((await fractions(page, '[data-testid="marks-2"] [data-kind="ink"]'))[0], ink, 0.01, 'landscape: the stroke');
      await screenshots(page, 'reader-annotations');

      // "Ghi chú của tôi" lists both, and holds my note on the document's agenda item.
      await page.getByTestId('reader-scroller').evaluate((el) => el.scrollTo(0, 0));
      await waitForText(page.getByTestId('reader-page'), /^Trang 1\/3/);
      await page.getByTestId('ann-list-toggle').click();
      await waitForCount(page.getByTestId('ann-list-entry'), 2);
      await page.getByTestId('ann-item-note').fill('Đề nghị giải trình khoản chi hội nghị');
      await page.getByTestId('ann-item-note').blur();
      // An entry opens its page.
      await page.getByTestId('ann-list-entry').first().click();
      await waitForText(page.getByTestId('reader-page'), /^Trang 2\/3/);
      assert.equal(await page.getByTestId('ann-list').count(), 0, 'the list closed');

      // "My annotated copy": the box's PDF with my marks as PDF annotations.
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('ann-export').click()]);
      const bytes = fs.readFileSync(await download.path()).toString('latin1');
      assert.ok(bytes.startsWith('%PDF-') && /\/Subtype\s*\/Highlight/.test(bytes) && /\/Subtype\s*\/Ink/.test(bytes), 'the copy is a PDF with a highlight and an ink annotation');
      let itemNotes = [];
      for (let i = 0; i < 40 && itemNotes.length === 0; i++) {
        await page.waitForTimeout(250);
        itemNotes = (await page.evaluate((m) => fetch(`/api/meetings/${m}/annotations`).then((r) => r.json()), meeting.id)).notes;
      }
      assert.deepEqual(itemNotes.map((n) => n.text), ['Đề nghị giải trình khoản chi hội nghị']);

      // A second delegate: nothing in the reader, nothing from the API.
      const b = await pairTablet(chrome.browser, desk, people.cuong, '1357');
      try {
        // Everything the other tablet's feeds carry, from the DevTools protocol.
        const feed = [];
        const cdp = await b.context.newCDPSession(b.page);
        await cdp.send('Network.enable');
        cdp.on('Network.eventSourceMessageReceived', (e) => feed.push(e.data));
        await openPage2(b.page, url);
        await b.page.waitForTimeout(1500);
        assert.equal(await b.page.locator('[data-testid="mark"]').count(), 0, "the other delegate's reader shows no marks");
        const cookie = (await b.context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
        const res = await box.request('GET', `/api/meetings/${meeting.id}/annotations`, { headers: { Cookie: cookie, Origin: box.origin } });
        assert.equal(res.status, 200, res.text);
        for (const id of ids) assert.ok(!res.text.includes(id), `the other delegate gets none of the private marks: ${res.text}`);
        assert.equal(res.json.annotations.length, 0);

        // Shared with the meeting, the highlight reaches the other reader over the feed, drawn
        // as someone else's; made private again, it is gone from there.
        // Meanwhile the first delegate makes a private mark: the other feed must not carry it.
        const privateId = await page.evaluate(async ({ m, d, sha }) => {
          const id = [...crypto.getRandomValues(new Uint8Array(16))].map((x) => x.toString(16).padStart(2, '0')).join('');
          const r = await fetch(`/api/meetings/${m}/annotations/${id}`, {
            method: 'PUT',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ document_id: d, version_sha256: sha, page: 1, kind: 'bookmark', rev: 1 }),
          });
          if (!r.ok) throw new Error(`PUT ${r.status}`);
          return id;
        }, { m: meeting.id, d: doc.id, sha: doc.versions.at(-1).sha256 });
        await page.getByTestId('reader-page-2').scrollIntoViewIfNeeded();
        // A tap on the highlight picks it (the marks let taps through to the text beneath, so
        // it is a tap at its place, not on its element).
        const hl = await page.locator('[data-testid="marks-2"] [data-kind="highlight"]').boundingBox();
        await page.mouse.click(hl.x + hl.width / 2, hl.y + hl.height / 2);
        await page.getByTestId('ann-share-meeting').click();
        await b.page.locator('[data-testid="marks-2"] .other[data-kind="highlight"]').waitFor({ timeout: 15_000 });
        await waitForCount(b.page.locator('[data-testid="mark"]'), 1, { message: 'only the shared mark' });
        // It says whose it is.
        await waitForText(b.page.locator('[data-testid="reader-page-2"] .owner').first(), /Trần Thị Bình/, { timeout: 15_000 });
        const highlightId = live.find((x) => x.kind === 'highlight').id;
        assert.ok(feed.some((m) => m.includes(highlightId)), `the feed carried the shared mark: ${feed.length} messages`);
        for (const id of [privateId, ...ids.filter((x) => x !== highlightId)]) assert.ok(!feed.some((m) => m.includes(id)), `the feed never carried the private mark ${id}`);
        await page.getByTestId('ann-share-private').click();
        await b.page.locator('[data-testid="mark"]').waitFor({ state: 'detached', timeout: 15_000 });
        await page.getByText('Đóng').click();
      } finally {
        await b.context.close();
      }

      // "Tải về để đọc trước", then no network: the reader opens from the tablet, a note is
      // queued, the page is closed and opened again (still offline: the note is there, from the
      // queue); back online, the note reaches the box, once.
      await page.goto(`${box.origin}/meetings/${meeting.id}`);
      await waitForServiceWorker(page);
      await page.getByTestId('offline-download').click();
      await waitForText(page.getByTestId('offline-status'), /^Đã tải 1\/1 tài liệu/, { timeout: 20_000 });
      await a.context.setOffline(true);
      await openPage2(page, url);
      await page.getByTestId('ann-note').click();
      const q = await page.getByTestId('reader-page-2').boundingBox();
      await page.mouse.click(q.x + q.width * 0.5, q.y + q.height * 0.3);
      await page.getByTestId('ann-note-text').fill('Hỏi lại số chi thường xuyên');
      await page.getByTestId('ann-note-save').click();
      await waitForText(page.getByTestId('ann-sync'), /^Chưa gửi 1 thay đổi/);
      await page.close();
      const again = await a.context.newPage();
      await openPage2(again, url);
      await again.locator('[data-testid="marks-2"] [data-kind="note"]').waitFor({ timeout: 10_000 });
      await waitForText(again.getByTestId('ann-sync'), /^Chưa gửi 1 thay đổi/);
      const reconnect = Date.now();
      await a.context.setOffline(false);
      await again.waitForFunction(() => document.querySelector('[data-testid="ann-sync"]')?.textContent.trim() === '', null, { timeout: 30_000 });
      const syncedMs = Date.now() - reconnect;
      const after = await again.evaluate((m) => fetch(`/api/meetings/${m}/annotations`, { cache: 'no-store' }).then((r) => r.json()), meeting.id);
      const notes = after.annotations.filter((x) => x.kind === 'note');
      assert.equal(notes.length, 1, JSON.stringify(after));
      assert.equal(notes[0].text, 'Hỏi lại số chi thường xuyên');
      assert.equal(notes[0].rev, 1);
      await waitForCount(again.locator('[data-testid="marks-2"] [data-kind="note"]'), 1);
      t.diagnostic(`reconnect to all synced: ${syncedMs} ms`);

      // A new version of the document: the marks stay with the old one, listed as notes on an
      // earlier version, with a way to open it (where they are drawn again).
      await uploadPdf(
        box,
        desk.cookie,
        `/api/documents/${doc.id}/versions`,
        await printPdf(chrome.browser, [1, 2, 3].map((n) => `<h1>Trang ${n} (sửa)</h1><p>Mục ${n} đã sửa.</p>`), { style: 'font:16pt serif' }),
        'bao-cao-sua.pdf',
      );
      await again.goto(url);
      await waitForText(again.getByTestId('ann-earlier'), /^4 ghi chú trên phiên bản trước/, { timeout: 20_000 });
      assert.equal(await again.locator('[data-testid="mark"]').count(), 0, 'none drawn on the new version');
      await again.getByTestId('ann-open-version').click();
      await again.waitForURL(`${url}/v/1`);
      await again.getByTestId('reader-page-2').scrollIntoViewIfNeeded();
      await again.locator('[data-testid="marks-2"] [data-kind="highlight"]').waitFor({ timeout: 20_000 });
      await again.locator('[data-testid="marks-2"] [data-kind="note"]').waitFor();
      await a.context.close();
    }));

});
