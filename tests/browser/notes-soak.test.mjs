// Soak test of notes written offline (issue #11): CYCLES times (10 in `make test`, 100 in
// `make bench-notes`), a delegate's tablet goes offline, writes a note in the reader, has its
// page killed, opens the reader again (still offline; the note shows from the queue), and comes
// back online. At the end every note is on the box exactly once, none lost, none duplicated, and
// the time from each reconnect to "all synced" is reported (p50, p99, max).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Box, addStaff, apiAs, draftMeeting, launchChromium, pairTablet, printPdf, publishMeeting, uploadPdf, waitForText, withBoxLog, openReaderPage2 as openPage2, waitForServiceWorker } from './helpers.mjs';

const SECRETARY = { username: 'thuky', name: 'Trần Thị Thu', password: 'thuky-demo', role: 'secretary' };
const CHAIR = { username: 'chutich', name: 'Nguyễn Văn An', password: 'chutich-demo', role: 'chair' };
const CYCLES = Number(process.env.NOTES_SOAK_CYCLES ?? 10);

function pct(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))];
}

describe('notes written offline, soak', () => {
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
    ({ meeting, people } = await draftMeeting(desk, { people: [['an', 'Nguyễn Văn An'], ['binh', 'Trần Thị Bình']], startsInMinutes: 30, chair: 'an' }));
    const item = await desk.call('POST', `/api/meetings/${meeting.id}/items`, { title: 'Quyết toán ngân sách', presenter: 'Kế toán' });
    const pdf = await printPdf(chrome.browser, [1, 2].map((n) => `<h1>Trang ${n}</h1><p>Mục ${n} ngân sách xã.</p>`), { style: 'font:16pt serif' });
    doc = await uploadPdf(box, desk.cookie, `/api/meetings/${meeting.id}/items/${item.id}/documents?title=${encodeURIComponent('Báo cáo quyết toán')}`, pdf);
    await publishMeeting(desk, chair, meeting.id);
    url = `${box.origin}/read/${meeting.id}/${doc.id}`;
  });

  after(async () => {
    await chrome?.close();
    await box?.destroy();
  });

  test(`${CYCLES} cycles of offline, write, kill the page, reconnect: no note lost or duplicated`, { timeout: 120_000 + CYCLES * 15_000 }, (t) =>
    withBoxLog(box, async () => {
      const a = await pairTablet(chrome.browser, desk, people.binh, '2468');
      let page = a.page;
      await page.setViewportSize({ width: 768, height: 1024 });
      // The app installs its service worker, which takes the page over.
      await waitForServiceWorker(page);
      await page.goto(`${box.origin}/meetings/${meeting.id}`);
      await page.getByTestId('offline-download').click();
      await waitForText(page.getByTestId('offline-status'), /^Đã tải 1\/1 tài liệu/, { timeout: 20_000 });
      await openPage2(page, url);
      const synced = [];
      const written = [];
      for (let i = 0; i < CYCLES; i++) {
        await a.context.setOffline(true);
        await page.getByTestId('ann-note').click();
        await page.getByTestId('reader-page-2').scrollIntoViewIfNeeded();
        const q = await page.getByTestId('reader-page-2').boundingBox();
        // A different place each time, a grid of 10 × 10 spaced well apart on the screen (below
        // the reader's toolbar), so no note sits on another.
        const x = q.x + q.width * (0.08 + 0.085 * (i % 10));
        const y = Math.max(q.y, 330) + 30 + 60 * (Math.floor(i / 10) % 10);
        assert.ok(y < Math.min(q.y + q.height, page.viewportSize().height), `the spot ${y} is on page 2`);
        await page.mouse.click(x, y);
        const text = `Ghi chú ngoại tuyến số ${i + 1}`;
        await page.getByTestId('ann-note-text').fill(text).catch((e) => {
          throw new Error(`cycle ${i + 1}: no note editor at (${x}, ${y}): ${e.message}`);
        });
        await page.getByTestId('ann-note-save').click();
        written.push(text);
        await waitForText(page.getByTestId('ann-sync'), /^Chưa gửi 1 thay đổi/);
        // The page is killed with the save only in the queue, and opened again offline.
        await page.close();
        page = await a.context.newPage();
        await page.setViewportSize({ width: 768, height: 1024 });
        await openPage2(page, url);
        await waitForText(page.getByTestId('ann-sync'), /^Chưa gửi 1 thay đổi/);
        const reconnect = Date.now();
        await a.context.setOffline(false);
        await page.waitForFunction(() => document.querySelector('[data-testid="ann-sync"]')?.textContent.trim() === '', null, { timeout: 30_000 });
        synced.push(Date.now() - reconnect);
      }
      const all = await page.evaluate((m) => fetch(`/api/meetings/${m}/annotations`, { cache: 'no-store' }).then((r) => r.json()), meeting.id);
      const notes = all.annotations.filter((x) => x.kind === 'note' && !x.deleted);
      const texts = notes.map((n) => n.text).sort();
      assert.deepEqual(texts, [...written].sort(), 'every note once');
      assert.equal(new Set(notes.map((n) => n.id)).size, CYCLES, 'no duplicate ids');
      assert.ok(notes.every((n) => n.rev === 1), 'each note saved once');
      const sorted = [...synced].sort((x, y) => x - y);
      t.diagnostic(`notes soak: ${CYCLES} cycles, ${notes.length} notes on the box, 0 lost, 0 duplicated; reconnect to all synced p50 ${pct(sorted, 0.5)} ms, p99 ${pct(sorted, 0.99)} ms, max ${sorted.at(-1)} ms`);
    }));
});
