// Marks in the reader, the rest of issue 11:
// - text under a highlight can still be selected with the finger/mouse (and underlined), and a
//   tap that selects nothing still picks the mark; "Gửi người trình bày" sends it to the person
//   the secretary named presenter of the item, and to nobody else;
// - one person on two tablets edits the same note (and the same note on the item) at once, one of
//   them offline: the box keeps the edit that reached it first, and the other tablet keeps its
//   own text aside (a new note beside it; added below on the item) and says so; then one erases
//   the note while the other edits it: the edit that came first stays. Both tablets end up
//   showing the same notes, each once;
// - "Bản có ghi chú của tôi" asked for with marks still in the offline queue says they are not in
//   the copy yet and offers it once they are sent; the copy then has them;
// - on a page turned with /Rotate 90, a highlight covers its words on screen and is kept in the
//   page's own (unturned) space;
// - "Xóa các cuộc họp đã kết thúc" on "Cuộc họp của tôi" drops the downloads of meetings that
//   have ended, keeps the others, and those of meetings ended more than 30 days ago (by the
//   box's clock, not a tablet's clock a month fast) go by themselves; the storage used and the
//   persistent-storage state are shown.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Box, addStaff, apiAs, draftMeeting, launchChromium, newTablet, pairTablet, printPdf, publishMeeting, skewClock, uploadPdf, waitForText, withBoxLog, openReaderPage2 as openPage2, waitForServiceWorker, waitForCount } from './helpers.mjs';

const SECRETARY = { username: 'thuky', name: 'Trần Thị Thu', password: 'thuky-demo', role: 'secretary' };
const CHAIR = { username: 'chutich', name: 'Nguyễn Văn An', password: 'chutich-demo', role: 'chair' };
const WORDS = 'QUYETTOAN';

/** A tablet of someone who may already have one: a first pairing sets the PIN (and confirms it). */
async function pairAgain(browser, desk, person, pin) {
  const context = await newTablet(browser);
  const page = await context.newPage();
  const { code } = await desk.call('POST', `/api/people/${person.id}/pairing-code`);
  await page.goto(`${desk.origin}/pair?code=${code}`);
  await page.getByTestId('pin').fill(pin);
  await page.getByTestId('pair-submit').click();
  const confirm = page.getByTestId('confirm-pin');
  await Promise.race([page.waitForURL(`${desk.origin}/meetings`), confirm.waitFor()]);
  if (await confirm.isVisible()) {
    await confirm.fill(pin);
    await page.getByTestId('confirm-submit').click();
    await page.waitForURL(`${desk.origin}/meetings`);
  }
  return { context, page };
}

/** The box's marks as a tablet sees them. */
const marksOf = (page, meetingId) => page.evaluate((m) => fetch(`/api/meetings/${m}/annotations`, { cache: 'no-store' }).then((r) => r.json()), meetingId);

/** Selects page 2's WORDS programmatically and highlights them. */
async function highlightWords(page) {
  await page.locator('[data-testid="reader-page-2"] .textLayer span', { hasText: WORDS }).first().waitFor({ timeout: 20_000 });
  await page.evaluate((w) => {
    const span = [...document.querySelectorAll('[data-testid="reader-page-2"] .textLayer span')].find((x) => x.textContent.includes(w));
    const r = document.createRange();
    r.selectNodeContents(span);
    getSelection().removeAllRanges();
    getSelection().addRange(r);
  }, WORDS);
  await page.getByTestId('ann-highlight').click();
  await page.locator('[data-testid="marks-2"] [data-kind="highlight"]').waitFor({ timeout: 5000 });
}

/** Puts a sticky note with `text` at (fx, fy) of page 2. */
async function addNote(page, text, fx = 0.5, fy = 0.3) {
  await page.getByTestId('ann-note').click();
  const q = await page.getByTestId('reader-page-2').boundingBox();
  await page.mouse.click(q.x + q.width * fx, q.y + q.height * fy);
  await page.getByTestId('ann-note-text').fill(text);
  await page.getByTestId('ann-note-save').click();
  await page.getByTestId('ann-select').click();
}

/** Taps a note on page 2 (the only one, or the mark `id`) and saves `text` as its new text. */
async function editNote(page, text, id = null) {
  const note = await page.locator(`[data-testid="marks-2"] [data-kind="note"]${id ? `[data-mark="${id}"]` : ''}`).boundingBox();
  await page.mouse.click(note.x + note.width / 2, note.y + note.height / 2);
  const panel = page.getByTestId('ann-selected');
  await panel.waitFor({ timeout: 5000 });
  await panel.locator('textarea').fill(text);
  await panel.getByRole('button', { name: 'Lưu' }).click();
  await panel.getByRole('button', { name: 'Đóng' }).click();
}

/** What a tablet shows of its notes: the texts in "Ghi chú của tôi" and the notes drawn. */
async function shownNotes(page) {
  await page.getByTestId('ann-list-toggle').click();
  const list = page.getByTestId('ann-list');
  await list.waitFor();
  const texts = await list.locator('[data-testid="ann-list-entry"] .quote').allTextContents();
  await page.getByTestId('ann-list-toggle').click();
  return { texts, drawn: await page.locator('[data-testid="marks-2"] [data-kind="note"]').count() };
}

/** An element's box as fractions of page 2's box. */
async function fractionsOf(page, selector) {
  return page.evaluate((sel) => {
    const p = document.querySelector('[data-testid="reader-page-2"]').getBoundingClientRect();
    const r = document.querySelector(sel).getBoundingClientRect();
    return { x1: (r.left - p.left) / p.width, y1: (r.top - p.top) / p.height, x2: (r.right - p.left) / p.width, y2: (r.bottom - p.top) / p.height };
  }, selector);
}

/**
 * Chromium's PDF with every page turned by /Rotate 90, byte for byte the same length (two line
 * breaks dropped, the obsolete /Tabs entry replaced), so the cross-reference table stays right.
 */
function rotated(pdf) {
  const s = pdf.toString('latin1');
  const out = s.replace(/\]\n\/Contents (\d+) 0 R\n\/Tabs \/S\n/g, (_, n) => `]/Contents ${n} 0 R/Rotate 90\n`);
  assert.notEqual(out, s, 'the pages were turned');
  assert.equal(out.length, s.length);
  return Buffer.from(out, 'latin1');
}

/** Draws one pen stroke across page 2, `y` down the page (a fraction), then back to select. */
async function penStroke(page, y) {
  await page.getByTestId('ann-pen').click();
  const p = await page.getByTestId('reader-page-2').boundingBox();
  await page.mouse.move(p.x + p.width * 0.2, p.y + p.height * y);
  await page.mouse.down();
  await page.mouse.move(p.x + p.width * 0.6, p.y + p.height * (y + 0.02), { steps: 8 });
  await page.mouse.up();
  await page.getByTestId('ann-select').click();
}

const synced = (page) => page.waitForFunction(() => document.querySelector('[data-testid="ann-sync"]')?.textContent.trim() === '', null, { timeout: 30_000 });

describe('marks: selection, presenter, two tablets, export, clearing downloads', () => {
  /** @type {Box} */
  let box;
  let chrome;
  let desk;
  let chair;
  let meeting;
  let ended;
  let longAgo;
  let people;
  let url;

  before(async () => {
    box = await Box.create({ room: 'Phòng họp UBND xã Tân Phú' });
    await addStaff(box, [SECRETARY, CHAIR]);
    chrome = await launchChromium(box.caPem);
    desk = await apiAs(box, SECRETARY);
    chair = await apiAs(box, CHAIR);
    ({ meeting, people } = await draftMeeting(desk, {
      people: [['an', 'Nguyễn Văn An'], ['binh', 'Trần Thị Bình'], ['cuong', 'Lê Văn Cường'], ['dung', 'Phạm Văn Dũng']],
      startsInMinutes: 30,
      chair: 'an',
    }));
    const item = await desk.call('POST', `/api/meetings/${meeting.id}/items`, { title: 'Quyết toán ngân sách', presenter: 'Kế toán' });
    const pdf = await printPdf(
      chrome.browser,
      [1, 2, 3].map((n) => `<h1>Trang ${n}</h1><p style="margin-top:40mm">Mục ${n}: ${n === 2 ? WORDS : 'khác'} ngân sách xã năm 2026.</p>`),
      { style: 'font:16pt serif' },
    );
    const doc = await uploadPdf(box, desk.cookie, `/api/meetings/${meeting.id}/items/${item.id}/documents?title=${encodeURIComponent('Báo cáo quyết toán')}`, pdf);
    await publishMeeting(desk, chair, meeting.id);
    url = `${box.origin}/read/${meeting.id}/${doc.id}`;

    // A second meeting of the same body, which has ended.
    const starts = new Date(Date.now() + 10 * 60_000);
    starts.setUTCSeconds(0, 0);
    ended = await desk.call('POST', '/api/meetings', { body_id: meeting.body_id, title: 'Phiên họp tháng trước', starts_at: starts.toISOString().replace('.000Z', 'Z'), chair_id: people.an.id });
    const item2 = await desk.call('POST', `/api/meetings/${ended.id}/items`, { title: 'Báo cáo tháng' });
    await uploadPdf(box, desk.cookie, `/api/meetings/${ended.id}/items/${item2.id}/documents?title=${encodeURIComponent('Báo cáo tháng')}`, await printPdf(chrome.browser, ['<h1>BÁO CÁO THÁNG</h1>']), 'bao-cao-thang.pdf');
    await publishMeeting(desk, chair, ended.id);
    // And one that started 40 days ago by the box's clock (it is ended in the test).
    const old = new Date(Date.now() - 40 * 86_400_000);
    old.setUTCSeconds(0, 0);
    longAgo = await desk.call('POST', '/api/meetings', { body_id: meeting.body_id, title: 'Phiên họp quý trước', starts_at: old.toISOString().replace('.000Z', 'Z'), chair_id: people.an.id });
    const item3 = await desk.call('POST', `/api/meetings/${longAgo.id}/items`, { title: 'Báo cáo quý' });
    await uploadPdf(box, desk.cookie, `/api/meetings/${longAgo.id}/items/${item3.id}/documents?title=${encodeURIComponent('Báo cáo quý')}`, await printPdf(chrome.browser, ['<h1>BÁO CÁO QUÝ</h1>']), 'bao-cao-quy.pdf');
    await publishMeeting(desk, chair, longAgo.id);
  });

  after(async () => {
    await chrome?.close();
    await box?.destroy();
  });

  test('text under a highlight is selectable; a tap picks the mark; "Gửi người trình bày" reaches the presenter only', { timeout: 120_000 }, () =>
    withBoxLog(box, async () => {
      // At the desk, the secretary names Dũng, a member, as the item's presenter in the meeting.
      const staff = await newTablet(chrome.browser);
      await staff.addCookies([{ name: desk.cookie.split('=')[0], value: desk.cookie.split('=').slice(1).join('='), url: box.origin }]);
      const sec = await staff.newPage();
      await sec.goto(`${box.origin}/desk/meetings/${meeting.id}/prepare`);
      const row = sec.getByTestId('agenda-item').filter({ hasText: 'Quyết toán ngân sách' });
      await row.getByTestId('item-edit').click();
      await sec.getByTestId('item-presenter-person').selectOption({ label: 'Phạm Văn Dũng' });
      await sec.getByTestId('item-save').click();
      await sec.getByTestId('item-form').waitFor({ state: 'detached' });
      const agenda = (await desk.call('GET', `/api/meetings/${meeting.id}`)).agenda;
      assert.equal(agenda[0].presenter_id, people.dung.id, 'the item names Dũng as its presenter');
      assert.equal(agenda[0].presenter, 'Kế toán', 'the presenter text is kept');
      await staff.close();

      const a = await pairTablet(chrome.browser, desk, people.binh, '2468');
      const d = await pairTablet(chrome.browser, desk, people.dung, '1357');
      const c = await pairTablet(chrome.browser, desk, people.cuong, '3579');
      try {
        const page = a.page;
        await page.setViewportSize({ width: 768, height: 1024 });
        await openPage2(page, url);
        await highlightWords(page);
        await page.evaluate(() => getSelection().removeAllRanges());
        // The bar's "not sent yet" line comes and goes: let the page settle before aiming.
        await page.waitForTimeout(300);
        await synced(page);
        await page.waitForTimeout(300);

        // Drag across the highlighted words with the mouse, as a finger selects text.
        const span = await page.locator('[data-testid="reader-page-2"] .textLayer span', { hasText: WORDS }).first().boundingBox();
        const y = span.y + span.height / 2;
        await page.mouse.move(span.x + 2, y);
        await page.mouse.down();
        await page.mouse.move(span.x + span.width - 2, y, { steps: 8 });
        await page.mouse.up();
        const selected = await page.evaluate(() => getSelection().toString());
        assert.ok(selected.includes(WORDS), `the words under the highlight are selected: "${selected}"`);
        assert.equal(await page.getByTestId('ann-selected').count(), 0, 'selecting text does not pick the mark');
        await page.getByTestId('ann-underline').click();
        await page.locator('[data-testid="marks-2"] [data-kind="underline"]').waitFor({ timeout: 5000 });

        // A tap on the words (selecting nothing) picks the mark on top there, the underline; it
        // goes to the presenter.
        await page.evaluate(() => getSelection().removeAllRanges());
        await page.waitForTimeout(300);
        await synced(page);
        await page.waitForTimeout(300);
        const hl = await page.locator('[data-testid="marks-2"] [data-kind="highlight"]').boundingBox();
        await page.mouse.click(hl.x + hl.width / 2, hl.y + hl.height / 2);
        await page.getByTestId('ann-selected').waitFor({ timeout: 5000 });
        await waitForText(page.getByTestId('ann-share-presenter'), 'Gửi người trình bày');
        await page.getByTestId('ann-share-presenter').click();
        let sharing;
        for (let i = 0; i < 40; i++) {
          sharing = (await marksOf(page, meeting.id)).annotations.filter((x) => x.kind === 'underline').map((x) => x.sharing);
          if (sharing[0] === 'presenter') break;
          await page.waitForTimeout(250);
        }
        assert.deepEqual(sharing, ['presenter']);

        // Dũng, the presenter, sees it in the reader, named; Cường sees nothing.
        await openPage2(d.page, url);
        await d.page.locator('[data-testid="marks-2"] .other[data-kind="underline"]').waitFor({ timeout: 15_000 });
        await waitForCount(d.page.locator('[data-testid="mark"]'), 1, { message: 'only the mark sent to the presenter' });
        await waitForText(d.page.locator('[data-testid="reader-page-2"] .owner').first(), /Trần Thị Bình/, { timeout: 15_000 });
        await openPage2(c.page, url);
        await c.page.waitForTimeout(1000);
        assert.equal(await c.page.locator('[data-testid="mark"]').count(), 0, 'another delegate sees none');
        assert.equal((await marksOf(c.page, meeting.id)).annotations.length, 0);

        // The secretary names Cường instead: the mark leaves Dũng's open reader and reaches
        // Cường's, with no reload.
        await desk.call('PUT', `/api/meetings/${meeting.id}/items/${agenda[0].id}`, { presenter_id: people.cuong.id });
        await d.page.locator('[data-testid="mark"]').waitFor({ state: 'detached', timeout: 15_000 });
        await c.page.locator('[data-testid="marks-2"] .other[data-kind="underline"]').waitFor({ timeout: 15_000 });

        // Back to private: gone from the presenter's reader.
        await page.getByTestId('ann-share-private').click();
        await c.page.locator('[data-testid="mark"]').waitFor({ state: 'detached', timeout: 15_000 });

        // The item loses its presenter: "Gửi người trình bày" leaves the open reader; named
        // again, it comes back, with no reload.
        await page.getByTestId('ann-share-presenter').waitFor({ timeout: 5000 });
        await desk.call('PUT', `/api/meetings/${meeting.id}/items/${agenda[0].id}`, { presenter_id: null });
        await page.getByTestId('ann-share-presenter').waitFor({ state: 'detached', timeout: 15_000 });
        await desk.call('PUT', `/api/meetings/${meeting.id}/items/${agenda[0].id}`, { presenter_id: people.dung.id });
        await page.getByTestId('ann-share-presenter').waitFor({ timeout: 15_000 });
      } finally {
        await Promise.all([a.context.close(), d.context.close(), c.context.close()]);
      }
    }));

  test('one person, two tablets, the same note edited at once: the first edit is kept and the other kept aside', { timeout: 150_000 }, () =>
    withBoxLog(box, async () => {
      const one = await pairAgain(chrome.browser, desk, people.cuong, '3579');
      const two = await pairAgain(chrome.browser, desk, people.cuong, '3579');
      try {
        for (const t of [one, two]) await t.page.setViewportSize({ width: 768, height: 1024 });
        for (const t of [one, two]) {
          await t.page.goto(`${box.origin}/meetings/${meeting.id}`);
          await waitForServiceWorker(t.page);
        }
        await openPage2(one.page, url);
        await addNote(one.page, 'Bản đầu');
        await synced(one.page);
        await openPage2(two.page, url);
        await two.page.locator('[data-testid="marks-2"] [data-kind="note"]').waitFor({ timeout: 10_000 });
        const first = await two.page.locator('[data-testid="marks-2"] [data-kind="note"]').getAttribute('data-mark');
        /** Writes `text` as my note on the document's agenda item. */
        const itemNote = async (page, text) => {
          await page.getByTestId('ann-list-toggle').click();
          await page.getByTestId('ann-item-note').fill(text);
          await page.getByTestId('ann-item-note').blur();
          await page.getByTestId('ann-list-toggle').click();
        };
        /** The box's live notes, as `[id, text, rev]` sorted by text, and my note on the item. */
        const onBox = async (page) => {
          const m = await marksOf(page, meeting.id);
          const notes = m.annotations.filter((x) => x.kind === 'note' && !x.deleted).map((x) => [x.id, x.text, x.rev]);
          return { notes: notes.sort((a, b) => (a[1] < b[1] ? -1 : 1)), item: m.notes.map((n) => n.text) };
        };
        /** The box's notes as `onBox` gives them, once `done` holds of them (or after 10 s). */
        const boxWhen = async (page, done) => {
          let seen;
          for (let i = 0; i < 40; i++) {
            seen = await onBox(page);
            if (done(seen)) break;
            await page.waitForTimeout(250);
          }
          return seen;
        };
        /** Waits until both tablets show exactly `texts` (sorted), each drawn once. */
        const bothShow = async (texts) => {
          for (const t of [one, two]) {
            let seen;
            for (let i = 0; i < 40; i++) {
              seen = await shownNotes(t.page);
              seen.texts.sort();
              if (JSON.stringify(seen) === JSON.stringify({ texts, drawn: texts.length })) break;
              await t.page.waitForTimeout(250);
            }
            assert.deepEqual(seen, { texts, drawn: texts.length }, 'each tablet shows the same notes, once');
          }
        };

        // Both edit the note and the item note from revision 1; tablet two is offline meanwhile,
        // so tablet one's edits reach the box first.
        await two.context.setOffline(true);
        await editNote(two.page, 'Sửa trên máy hai');
        await itemNote(two.page, 'Mục này: ý kiến từ máy hai');
        await waitForText(two.page.getByTestId('ann-sync'), /^Chưa gửi 2 thay đổi/);
        await editNote(one.page, 'Sửa trên máy một');
        await itemNote(one.page, 'Mục này: ý kiến từ máy một');
        await synced(one.page);
        await two.context.setOffline(false);
        await two.page.getByTestId('ann-kept-aside').waitFor({ timeout: 30_000 });
        await synced(two.page);
        const box1 = await boxWhen(one.page, (b) => b.notes.length === 2 && b.item[0]?.includes('máy hai'));
        assert.deepEqual(box1.notes.map((n) => n[1]), ['Sửa trên máy hai', 'Sửa trên máy một'], JSON.stringify(box1));
        const kept = box1.notes.find((n) => n[1] === 'Sửa trên máy một');
        assert.deepEqual([kept[0], kept[2]], [first, 2], 'the note keeps the edit that came first, as revision 2');
        assert.notEqual(box1.notes.find((n) => n[1] === 'Sửa trên máy hai')[0], first, "tablet two's text is a new note beside it");
        assert.deepEqual(box1.item, ['Mục này: ý kiến từ máy một\n\nMục này: ý kiến từ máy hai'], 'the item note keeps both, the first one first');
        await bothShow(['Sửa trên máy hai', 'Sửa trên máy một']);
        await one.page.getByTestId('ann-list-toggle').click();
        await one.page.waitForFunction(() => document.querySelector('[data-testid="ann-item-note"]')?.value.includes('máy hai'), null, { timeout: 15_000 });
        await one.page.getByTestId('ann-list-toggle').click();

        // Revision 3: tablet one (offline) erases the note while tablet two changes its text and
        // reaches the box first: the edit stays, and an erase has nothing to keep aside.
        await one.context.setOffline(true);
        const n1 = await one.page.locator(`[data-testid="marks-2"] [data-mark="${first}"]`).boundingBox();
        await one.page.mouse.click(n1.x + n1.width / 2, n1.y + n1.height / 2);
        await one.page.getByTestId('ann-delete').click();
        await waitForText(one.page.getByTestId('ann-sync'), /^Chưa gửi 1 thay đổi/);
        await editNote(two.page, 'Sửa lần ba', first);
        await synced(two.page);
        await one.context.setOffline(false);
        await synced(one.page);
        const box3 = await boxWhen(two.page, (b) => b.notes.some((n) => n[1] === 'Sửa lần ba'));
        assert.deepEqual(box3.notes.map((n) => n[1]), ['Sửa lần ba', 'Sửa trên máy hai'], JSON.stringify(box3));
        await bothShow(['Sửa lần ba', 'Sửa trên máy hai']);

        // Both online now. Tablet one opens the note and starts on the item note; tablet two's
        // edits of both reach tablet one over the feed while it types, unseen. What tablet one
        // then saves was started from the older revision: kept aside, not written over them.
        const feedOfOne = [];
        const cdp = await one.context.newCDPSession(one.page);
        await cdp.send('Network.enable');
        cdp.on('Network.eventSourceMessageReceived', (e) => feedOfOne.push(e.data));
        const n3 = await one.page.locator(`[data-testid="marks-2"] [data-mark="${first}"]`).boundingBox();
        await one.page.mouse.click(n3.x + n3.width / 2, n3.y + n3.height / 2);
        await one.page.getByTestId('ann-note-edit').waitFor();
        await one.page.getByTestId('ann-list-toggle').click();
        await one.page.getByTestId('ann-item-note').fill('Mục này: thêm từ máy một');
        await editNote(two.page, 'Lần bốn, từ máy hai', first);
        await itemNote(two.page, 'Mục này: chỉ còn bản máy hai');
        await synced(two.page);
        for (const words of ['Lần bốn, từ máy hai', 'Mục này: chỉ còn bản máy hai']) {
          for (let i = 0; i < 60 && !feedOfOne.some((m) => m.includes(words)); i++) await one.page.waitForTimeout(250);
          assert.ok(feedOfOne.some((m) => m.includes(words)), `tablet one's feed carried "${words}"`);
        }
        assert.equal(await one.page.getByTestId('ann-item-note').inputValue(), 'Mục này: thêm từ máy một', 'what is being typed stays');
        await one.page.getByTestId('ann-item-note').blur();
        await one.page.getByTestId('ann-list-toggle').click();
        await one.page.getByTestId('ann-note-edit').fill('Lần bốn, từ máy một');
        await one.page.getByTestId('ann-note-edit-save').click();
        await one.page.getByTestId('ann-selected').getByRole('button', { name: 'Đóng' }).click();
        await synced(one.page);
        const box4 = await boxWhen(one.page, (b) => b.notes.length === 3 && b.item[0]?.includes('máy một'));
        assert.deepEqual(box4.notes.map((n) => n[1]), ['Lần bốn, từ máy hai', 'Lần bốn, từ máy một', 'Sửa trên máy hai'], JSON.stringify(box4));
        assert.equal(box4.notes.find((n) => n[0] === first)[1], 'Lần bốn, từ máy hai', "the note keeps tablet two's edit");
        assert.deepEqual(box4.item, ['Mục này: chỉ còn bản máy hai\n\nMục này: thêm từ máy một']);
        const places = (await marksOf(one.page, meeting.id)).annotations.filter((x) => x.kind === 'note' && !x.deleted).map((x) => JSON.stringify(x.rects[0]));
        assert.equal(new Set(places).size, 3, `the note kept aside twice is not put on the first one kept aside: ${places}`);
        await bothShow(['Lần bốn, từ máy hai', 'Lần bốn, từ máy một', 'Sửa trên máy hai']);
      } finally {
        await Promise.all([one.context.close(), two.context.close()]);
      }
    }));

  test('"Bản có ghi chú của tôi" with marks not yet sent says so, and is offered once they are', { timeout: 120_000 }, () =>
    withBoxLog(box, async () => {
      const t = await pairTablet(chrome.browser, desk, people.an, '4680');
      try {
        const page = t.page;
        await page.setViewportSize({ width: 768, height: 1024 });
        await page.goto(`${box.origin}/meetings/${meeting.id}`);
        await waitForServiceWorker(page);
        await openPage2(page, url);
        await t.context.setOffline(true);
        // A pen stroke, queued.
        await penStroke(page, 0.6);
        await waitForText(page.getByTestId('ann-sync'), /^Chưa gửi 1 thay đổi/);
        let downloads = 0;
        page.on('download', () => downloads++);
        await page.getByTestId('ann-export').click();
        await waitForText(page.getByTestId('ann-export-wait'), /^Còn 1 thay đổi chưa gửi được lên máy chủ phòng họp nên chưa có trong bản có ghi chú/);
        await page.waitForTimeout(500);
        assert.equal(downloads, 0, 'no copy without the stroke');
        // Back on the Wi-Fi: sent, then the copy is offered, and it has the stroke.
        await t.context.setOffline(false);
        await page.getByTestId('ann-export-ready').waitFor({ timeout: 30_000 });
        await waitForText(page.getByTestId('ann-export-wait'), /Đã gửi hết ghi chú/);
        const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('ann-export-ready').click()]);
        const bytes = fs.readFileSync(await download.path()).toString('latin1');
        assert.ok(bytes.startsWith('%PDF-') && /\/Subtype\s*\/Ink/.test(bytes), 'the copy has the stroke');
      } finally {
        await t.context.close();
      }
    }));

  test('on a page turned with /Rotate 90 a highlight covers its words, kept in the page\'s own space', { timeout: 120_000 }, () =>
    withBoxLog(box, async () => {
      const item = (await desk.call('GET', `/api/meetings/${meeting.id}`)).agenda[0];
      const pdf = rotated(
        await printPdf(
          chrome.browser,
          [1, 2].map((n) => `<h1>Trang ${n}</h1><p style="margin-top:40mm">Mục ${n}: ${n === 2 ? WORDS : 'khác'} ngân sách xã.</p>`),
          { style: 'font:16pt serif' },
        ),
      );
      const doc = await uploadPdf(box, desk.cookie, `/api/meetings/${meeting.id}/items/${item.id}/documents?title=${encodeURIComponent('Bảng biểu xoay ngang')}`, pdf, 'xoay.pdf');
      const t = await pairAgain(chrome.browser, desk, people.dung, '1357');
      try {
        const page = t.page;
        await page.setViewportSize({ width: 1024, height: 768 });
        const rotUrl = `${box.origin}/read/${meeting.id}/${doc.id}`;
        await openPage2(page, rotUrl);
        const pageBox = await page.getByTestId('reader-page-2').boundingBox();
        assert.ok(pageBox.width > pageBox.height, `the turned A4 page is shown landscape: ${pageBox.width}×${pageBox.height}`);
        await highlightWords(page);
        await page.evaluate((w) => {
          [...document.querySelectorAll('[data-testid="reader-page-2"] .textLayer span')].find((x) => x.textContent.includes(w)).setAttribute('data-words', '');
        }, WORDS);
        const words = await fractionsOf(page, '[data-testid="reader-page-2"] .textLayer span[data-words]');
        assert.ok(words.y2 - words.y1 > words.x2 - words.x1, `the line runs down the turned page: ${JSON.stringify(words)}`);
        const near = async (what) => {
          const hl = await fractionsOf(page, '[data-testid="marks-2"] [data-kind="highlight"]');
          for (const k of ['x1', 'y1', 'x2', 'y2']) assert.ok(Math.abs(hl[k] - words[k]) < 0.01, `${what}: ${k} ${hl[k].toFixed(4)} vs ${words[k].toFixed(4)}`);
        };
        await near('the highlight covers the words');
        // On the box: in the page's own space the line is wide, not tall.
        let mark;
        for (let i = 0; i < 40 && !mark; i++) {
          mark = (await marksOf(page, meeting.id)).annotations.find((x) => x.document_id === doc.id && x.kind === 'highlight');
          if (!mark) await page.waitForTimeout(250);
        }
        const [x1, y1, x2, y2] = mark.rects[0];
        assert.ok(x2 - x1 > 3 * (y2 - y1), `kept unturned: ${mark.rects[0]}`);
        // Reloaded and zoomed, still on the words.
        await openPage2(page, rotUrl);
        await page.getByTestId('zoom-in').click();
        await page.getByTestId('reader-page-2').scrollIntoViewIfNeeded();
        await page.locator('[data-testid="marks-2"] [data-kind="highlight"]').waitFor({ timeout: 20_000 });
        await page.locator('[data-testid="reader-page-2"] .textLayer span', { hasText: WORDS }).first().waitFor({ timeout: 20_000 });
        await page.evaluate((w) => {
          [...document.querySelectorAll('[data-testid="reader-page-2"] .textLayer span')].find((x) => x.textContent.includes(w)).setAttribute('data-words', '');
        }, WORDS);
        Object.assign(words, await fractionsOf(page, '[data-testid="reader-page-2"] .textLayer span[data-words]'));
        await near('reloaded and zoomed');
      } finally {
        await t.context.close();
      }
    }));

  test('a PDF whose cross-reference is broken is read, marked, and the copy\'s refusal is said in Vietnamese', { timeout: 120_000 }, () =>
    withBoxLog(box, async () => {
      const item = (await desk.call('GET', `/api/meetings/${meeting.id}`)).agenda[0];
      // As some office tools leave a file: `startxref` points at the wrong byte. pdf.js
      // rebuilds the table and shows it; the box cannot take it apart to add the marks.
      const good = (await printPdf(chrome.browser, ['<h1>Trang 1</h1>', '<h1>Trang 2</h1><p>Ý kiến thẩm tra</p>'])).toString('latin1');
      const broken = good.replace(/startxref\n(\d+)/, (_, n) => `startxref\n${'17'.padStart(n.length, '0')}`);
      assert.notEqual(broken, good);
      const doc = await uploadPdf(box, desk.cookie, `/api/meetings/${meeting.id}/items/${item.id}/documents?title=${encodeURIComponent('Báo cáo thẩm tra')}`, Buffer.from(broken, 'latin1'), 'tham-tra.pdf');
      const t = await pairAgain(chrome.browser, desk, people.cuong, '3579');
      try {
        const page = t.page;
        await page.setViewportSize({ width: 768, height: 1024 });
        await openPage2(page, `${box.origin}/read/${meeting.id}/${doc.id}`);
        await penStroke(page, 0.5);
        await synced(page);
        let downloads = 0;
        page.on('download', () => downloads++);
        await page.getByTestId('ann-export').click();
        await waitForText(page.getByTestId('ann-hint'), /^Máy chủ phòng họp không đọc được cấu trúc của tệp PDF này nên chưa tạo được bản có ghi chú/);
        await waitForText(page.getByTestId('ann-export'), /Bản có ghi chú của tôi/);
        assert.equal(downloads, 0, 'no file saved from a refusal');
        // The stroke is kept and still drawn.
        await waitForCount(page.locator('[data-testid="marks-2"] [data-kind="ink"]'), 1);
      } finally {
        await t.context.close();
      }
    }));

  test('"Xóa các cuộc họp đã kết thúc" drops ended meetings\' downloads; those ended 30 days ago go by themselves', { timeout: 120_000 }, () =>
    withBoxLog(box, async () => {
      const t = await pairAgain(chrome.browser, desk, people.binh, '2468');
      const cached = () => t.page.evaluate(async () => (await caches.keys()).filter((n) => n.startsWith('phonghop-docs-')).sort());
      const download = async (id) => {
        await t.page.goto(`${box.origin}/meetings/${id}`);
        await waitForServiceWorker(t.page);
        await t.page.getByTestId('offline-download').click();
        await waitForText(t.page.getByTestId('offline-status'), /^Đã tải (\d+)\/\1 tài liệu/, { timeout: 20_000 });
      };
      try {
        await download(meeting.id);
        await download(ended.id);
        await chair.call('POST', `/api/meetings/${ended.id}/live/start`, {});
        await chair.call('POST', `/api/meetings/${ended.id}/live/end`, {});
        assert.deepEqual(await cached(), [`phonghop-docs-${meeting.id}`, `phonghop-docs-${ended.id}`].sort());

        await t.page.goto(`${box.origin}/meetings`);
        const kept = t.page.getByTestId('offline-kept');
        await waitForText(kept, /^Đang giữ tài liệu của 2 cuộc họp · Bộ nhớ đã dùng: /);
        await t.page.getByTestId('offline-persisted-all').waitFor();
        assert.equal(await t.page.getByTestId('offline-auto-cleared').count(), 0, 'ended today: kept until asked');
        await waitForText(t.page.getByTestId('offline-clear-ended'), 'Xóa các cuộc họp đã kết thúc (1)');
        await t.page.getByTestId('offline-clear-ended').click();
        await waitForText(t.page.getByTestId('offline-cleared'), 'Đã xóa bản tải về của 1 cuộc họp đã kết thúc.');
        await waitForText(kept, /^Đang giữ tài liệu của 1 cuộc họp/);
        assert.equal(await t.page.getByTestId('offline-clear-ended').count(), 0);
        assert.deepEqual(await cached(), [`phonghop-docs-${meeting.id}`], 'the meeting to come keeps its documents');

        // Downloaded again, with a meeting that started 40 days ago and has ended. The tablet's
        // clock is 31 days fast: the box's clock decides, so only the old meeting's download goes
        // by itself, not that of the meeting that ended today.
        await download(ended.id);
        await download(longAgo.id);
        await chair.call('POST', `/api/meetings/${longAgo.id}/live/start`, {});
        await chair.call('POST', `/api/meetings/${longAgo.id}/live/end`, {});
        await skewClock(t.context, 31 * 86_400_000);
        await t.page.goto(`${box.origin}/meetings`);
        await waitForText(t.page.getByTestId('offline-auto-cleared'), 'Đã tự xóa bản tải về của 1 cuộc họp kết thúc hơn 30 ngày trước.');
        assert.deepEqual(await cached(), [`phonghop-docs-${meeting.id}`, `phonghop-docs-${ended.id}`].sort());
      } finally {
        await t.context.close();
      }
    }));
});
