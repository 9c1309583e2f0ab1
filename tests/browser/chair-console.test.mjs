// The chair's console runs the meeting live (issue 9), against a real box: the chair signs in on
// a laptop whose clock is 3 hours fast, opens the meeting, three delegates' tablets ask to speak
// (one with a procedural point that jumps the queue, one tapping twice), the chair reorders,
// gives the floor, sees the countdown by the BOX's clock, adds a reply right after a question,
// gives the floor to a raised hand in one tap, ends the speech, and the history and the report
// show it. The chair hands the console to a secretary, who runs it; another secretary sees it
// read-only. A reload restores the exact state.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Box, addStaff, apiAs, draftMeeting, launchChromium, newTablet, pairTablet, printPdf, publishMeeting, screenshots, skewClock, uploadPdf, waitForText, withBoxLog } from './helpers.mjs';

const SECRETARY = { username: 'thuky', name: 'Trần Thị Thu', password: 'thuky-demo', role: 'secretary' };
const SECRETARY2 = { username: 'thuky2', name: 'Lê Thị Hoa', password: 'thuky2-demo', role: 'secretary' };
const CHAIR = { username: 'chutich', name: 'Nguyễn Văn An', password: 'chutich-demo', role: 'chair' };
const SKEW_MS = 3 * 3600 * 1000;

/** A staff page signed in through the sign-in form, landing on `pathname`. */
async function signInPage(browser, box, account, pathname, { skewMs = 0 } = {}) {
  const context = await newTablet(browser);
  // This laptop's clock may be off by hours: Date.now() and new Date() are wrong by skewMs.
  if (skewMs) await skewClock(context, skewMs);
  const page = await context.newPage();
  await page.goto(`${box.origin}${pathname}`);
  await page.locator('#signin-username').fill(account.username);
  await page.locator('#signin-password').fill(account.password);
  await page.locator('form button[type="submit"]').click();
  await page.waitForURL(`${box.origin}${pathname}`);
  return { context, page };
}

/** Names in the console's queue, in order. */
async function queueNames(page) {
  return page.getByTestId('queue-row').locator('.q-name').allInnerTexts();
}

describe("the chair's console", () => {
  let box;
  let chrome;
  let desk;
  let meeting;
  let people = {};

  before(async () => {
    box = await Box.create({ room: 'Phòng họp UBND xã Tân Phú' });
    await addStaff(box, [SECRETARY, SECRETARY2, CHAIR]);
    chrome = await launchChromium(box.caPem);
    desk = await apiAs(box, SECRETARY);
    ({ meeting, people } = await draftMeeting(desk, { people: [['an', 'Nguyễn Văn An'], ['binh', 'Trần Thị Bình'], ['cuong', 'Lê Văn Cường'], ['dung', 'Phạm Thị Dung'], ['em', 'Hoàng Văn Em']], startsInMinutes: 30, chair: 'an' }));
    const first = await desk.call('POST', `/api/meetings/${meeting.id}/items`, { title: 'Báo cáo kinh tế - xã hội', presenter: 'Văn phòng', duration_minutes: 30 });
    await uploadPdf(box, desk.cookie, `/api/meetings/${meeting.id}/items/${first.id}/documents?title=${encodeURIComponent('Tờ trình dự toán')}`, await printPdf(chrome.browser, [1, 2, 3, 4].map((n) => `<h1>Tờ trình — trang ${n}</h1>`)));
    await desk.call('POST', `/api/meetings/${meeting.id}/items`, { title: 'Kế hoạch đầu tư công', presenter: 'Tài chính', duration_minutes: 20 });
    const chair = await apiAs(box, CHAIR);
    await publishMeeting(desk, chair, meeting.id);
    for (const key of ['an', 'binh', 'cuong', 'dung', 'em']) {
      await desk.call('PUT', `/api/meetings/${meeting.id}/attendance/${people[key].id}`, { status: 'present' });
    }
  });

  after(async () => {
    await chrome?.close();
    await box?.destroy();
  });

  test('run the meeting: queue, floor, countdown by the box clock, history, delegation, reload', { timeout: 120_000 }, () =>
    withBoxLog(box, async () => {
      const url = `/chair/meetings/${meeting.id}`;
      const tablets = {};
      for (const [key, pin] of [
        ['binh', '2580'],
        ['cuong', '1357'],
        ['dung', '2468'],
      ]) {
        tablets[key] = await pairTablet(chrome.browser, desk, people[key], pin);
      }
      /** A request to speak from that delegate's own tablet (its device session). */
      const ask = (key, kind, requestId) =>
        tablets[key].page.evaluate(
          async ({ mid, kind, requestId }) => {
            const r = await fetch(`/api/meetings/${mid}/live/speakers`, {
              method: 'POST',
              headers: { 'Content-Type': 'application/json' },
              body: JSON.stringify({ request_id: requestId, kind }),
            });
            return r.status;
          },
          { mid: meeting.id, kind, requestId },
        );

      // The chair signs in on a laptop 3 hours fast and opens the meeting.
      const { context: chairCtx, page } = await signInPage(chrome.browser, box, CHAIR, url, { skewMs: SKEW_MS });
      assert.ok((await page.evaluate(() => Date.now())) - Date.now() > SKEW_MS - 60_000, 'the laptop clock is 3 h fast');
      await waitForText(page.getByTestId('phase'), 'Chưa khai mạc');
      await page.getByTestId('start').click();
      await waitForText(page.getByTestId('phase'), 'Đang họp');
      await waitForText(page.locator('[data-testid="agenda-row"][data-current="true"] .a-title'), /^Báo cáo kinh tế - xã hội/);
      // The item's clock runs by the box's time, not the laptop's: seconds, not 3 hours.
      await waitForText(page.getByTestId('item-time'), /^Đã dùng 0:0\d \/ dự kiến 30:00$/);

      // Three tablets ask to speak; Bình taps twice (same id), Dũng's procedural point jumps ahead.
      const binhId = 'b'.repeat(32);
      assert.equal(await ask('binh', 'opinion', binhId), 200);
      assert.equal(await ask('binh', 'opinion', binhId), 200);
      assert.equal(await ask('cuong', 'question', 'c'.repeat(32)), 200);
      assert.equal(await ask('dung', 'procedural', 'd'.repeat(32)), 200);
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="queue-row"]').length === 3);
      assert.deepEqual(await queueNames(page), ['Phạm Thị Dung', 'Trần Thị Bình', 'Lê Văn Cường']);
      await waitForText(page.locator('[data-testid="queue-row"]').first().locator('.kind'), 'Kiến nghị thủ tục');
      await waitForText(page.locator('[data-testid="queue-row"]').nth(2).locator('.kind'), 'Chất vấn');
      // Waiting times are by the box's clock too.
      assert.match(await page.locator('[data-testid="queue-row"]').first().innerText(), /chờ 0:0\d/);

      // The chair moves Cường's question up.
      await page.locator('[data-testid="queue-row"]').nth(2).getByTestId('move-up').click();
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="queue-row"] .q-name')[1]?.textContent === 'Lê Văn Cường');
      assert.deepEqual(await queueNames(page), ['Phạm Thị Dung', 'Lê Văn Cường', 'Trần Thị Bình']);

      // A reorder that crosses a withdrawal (Bình changes her mind meanwhile): the box refuses the
      // stale order, and the console says so and shows the queue as it now is.
      const chairApi = await apiAs(box, CHAIR);
      let release;
      const held = new Promise((r) => (release = r));
      const hold = async (route) => {
        if (route.request().method() === 'PUT') await held;
        await route.continue();
      };
      await page.route('**/live/speakers', hold);
      await page.locator('[data-testid="queue-row"]').nth(2).getByTestId('move-up').click();
      const withdrawn = await tablets.binh.page.evaluate(
        async ({ mid, rid }) => (await fetch(`/api/meetings/${mid}/live/speakers/${rid}`, { method: 'DELETE' })).status,
        { mid: meeting.id, rid: binhId },
      );
      assert.equal(withdrawn, 200);
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="queue-row"]').length === 2);
      release();
      await waitForText(page.getByTestId('console-note'), 'Danh sách phát biểu vừa thay đổi; đã tải lại. Hãy sắp xếp lại.');
      await page.unroute('**/live/speakers', hold);
      assert.deepEqual(await queueNames(page), ['Phạm Thị Dung', 'Lê Văn Cường']);

      // A reply right after the question: An answers Cường.
      await page.locator('[data-testid="queue-row"]').nth(1).getByTestId('reply-queued').click();
      await page.locator('[data-testid="candidate"]', { hasText: 'Nguyễn Văn An' }).getByTestId('candidate-add').click();
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="queue-row"]').length === 3);
      assert.deepEqual(await queueNames(page), ['Phạm Thị Dung', 'Lê Văn Cường', 'Nguyễn Văn An']);
      await waitForText(page.locator('[data-testid="queue-row"]').nth(2).locator('.kind'), 'Giải trình');

      // The floor to Dũng: the countdown from the box's clock (procedural: 1 minute).
      await page.locator('[data-testid="queue-row"]').first().getByTestId('give-floor').click();
      await waitForText(page.getByTestId('speaker-name'), 'Phạm Thị Dung');
      await waitForText(page.getByTestId('countdown'), /^(1:00|0:5\d)$/);
      assert.equal(await page.getByTestId('countdown').getAttribute('data-over'), 'false');
      await page.getByTestId('add-minute').click();
      await waitForText(page.getByTestId('countdown'), /^(2:00|1:5\d)$/);
      await screenshots(page, 'chair-1-speaking');
      await page.getByTestId('end-speech').click();
      await page.getByTestId('nobody-speaking').waitFor();
      await waitForText(page.locator('[data-testid="history-row"]').first(), /^Phạm Thị Dung\s+1\. Báo cáo kinh tế - xã hội\s+Kiến nghị thủ tục\s+/);

      // One tap: Em raised a hand; the chair gives him the floor at once.
      await page.getByTestId('add-speaker').click();
      await page.locator('[data-testid="candidate"]', { hasText: 'Hoàng Văn Em' }).getByTestId('candidate-now').click();
      await waitForText(page.getByTestId('speaker-name'), 'Hoàng Văn Em');
      await waitForText(page.getByTestId('countdown'), /^(5:00|4:5\d)$/);

      // A secretary the chair did not delegate to sees the console read-only.
      const sec = await signInPage(chrome.browser, box, SECRETARY, url);
      await sec.page.getByTestId('console-readonly').waitFor();
      await waitForText(sec.page.getByTestId('speaker-name'), 'Hoàng Văn Em');
      assert.equal(await sec.page.getByTestId('give-floor').count(), 0);
      assert.equal(await sec.page.getByTestId('end-speech').count(), 0);

      // The chair hands the console to "thuky": her screen turns into the console, live.
      await page.getByTestId('operator-name').fill('thuky');
      await page.getByTestId('operator-give').click();
      await waitForText(page.getByTestId('operator'), 'Thư ký "thuky" đang điều hành thay chủ trì.');
      await sec.page.getByTestId('console-delegated').waitFor();
      await sec.page.getByTestId('end-speech').click();
      await page.getByTestId('nobody-speaking').waitFor();
      await sec.page.locator('[data-testid="queue-row"]').first().getByTestId('give-floor').click();
      await waitForText(page.getByTestId('speaker-name'), 'Lê Văn Cường');
      // Another secretary still only watches.
      const sec2 = await signInPage(chrome.browser, box, SECRETARY2, url);
      await sec2.page.getByTestId('console-readonly').waitFor();
      await waitForText(sec2.page.getByTestId('speaker-name'), 'Lê Văn Cường');
      assert.equal(await sec2.page.getByTestId('give-floor').count(), 0);

      // Over time turns red: the time given is cut to 10 s once more than 10 s have passed.
      const speaking = await page.evaluate(async (mid) => (await (await fetch(`/api/meetings/${mid}/live`)).json()).speaking, meeting.id);
      await page.waitForTimeout(Math.max(0, 11_000 - (Date.now() - Date.parse(speaking.started_at))));
      await chairApi.call('PUT', `/api/meetings/${meeting.id}/live/speakers/${speaking.id}/time`, { seconds: 10 });
      await waitForText(page.getByTestId('countdown'), /^−0:0\d\s*QUÁ GIỜ$/);
      assert.equal(await page.getByTestId('countdown').getAttribute('data-over'), 'true');
      await screenshots(page, 'chair-2-over-time');

      // A reload restores the exact state: phase, speaker, queue, history, who runs it.
      const before = {
        queue: await queueNames(page),
        history: await page.getByTestId('history-row').allInnerTexts(),
      };
      await page.reload();
      await waitForText(page.getByTestId('speaker-name'), 'Lê Văn Cường');
      await waitForText(page.getByTestId('countdown'), /^−0:\d\d\s*QUÁ GIỜ$/);
      assert.deepEqual(await queueNames(page), before.queue);
      assert.deepEqual(await page.getByTestId('history-row').allInnerTexts(), before.history);
      assert.equal(before.history.length, 2);
      await waitForText(page.getByTestId('phase'), 'Đang họp');
      await waitForText(page.getByTestId('operator'), 'Thư ký "thuky" đang điều hành thay chủ trì.');

      // Follow me: page 3 of the document for everyone, then the next page, then stop.
      await page.getByTestId('follow-page').fill('3');
      await page.getByTestId('follow-start').click();
      await waitForText(page.getByTestId('follow-now'), 'Đang trình chiếu: Tờ trình dự toán, trang 3');
      await waitForText(page.getByTestId('follow-pages'), '/ 4 trang');
      await page.getByTestId('follow-next').click();
      await waitForText(page.getByTestId('follow-now'), 'Đang trình chiếu: Tờ trình dự toán, trang 4');
      assert.equal(await page.getByTestId('follow-next').isDisabled(), true, 'no page after the last');
      const followed = await tablets.binh.page.evaluate(async (mid) => (await (await fetch(`/api/meetings/${mid}/live`)).json()).follow, meeting.id);
      assert.equal(followed.page, 4);
      await page.getByTestId('follow-stop').click();
      await page.getByTestId('follow-off').waitFor();

      // The chair takes the console back; the secretary's turns read-only again.
      await page.getByTestId('operator-take').click();
      await sec.page.getByTestId('console-readonly').waitFor();

      // The report: who spoke how often and how long.
      await page.getByTestId('end-speech').click();
      await page.getByTestId('nobody-speaking').waitFor();
      await page.getByTestId('report-load').click();
      await page.getByTestId('report').waitFor();
      const rows = await page.getByTestId('report-row').allInnerTexts();
      assert.equal(rows.length, 3, rows.join('\n'));
      assert.ok(rows.some((r) => r.startsWith('Phạm Thị Dung\t1\t')), rows.join('\n'));
      await screenshots(page, 'chair-3-report');

      // Speaking times per kind: questions get 2 minutes from now on.
      await page.getByTestId('limits-toggle').click();
      await page.getByTestId('limit-question').fill('2');
      await page.getByTestId('limits-save').click();
      await waitForText(page.getByTestId('console-note'), 'Đã lưu thời gian phát biểu.');
      const limits = await page.evaluate(async (mid) => (await (await fetch(`/api/meetings/${mid}/live`)).json()).limits, meeting.id);
      assert.equal(limits.question, 120);

      // The next item: the first one's time is kept beside it.
      await page.getByTestId('next-item').click();
      await waitForText(page.locator('[data-testid="agenda-row"][data-current="true"] .a-title'), /^Kế hoạch đầu tư công/);
      await waitForText(page.locator('[data-testid="agenda-row"]').first().locator('.a-title .muted'), /^30 phút\s*· đã dùng 0:\d\d$/);

      // A recess with a preset reason, then resume; then close, asked twice.
      await page.getByTestId('pause').click();
      await page.getByRole('button', { name: 'Nghỉ giải lao 15 phút' }).click();
      await page.getByTestId('pause-confirm').click();
      await waitForText(page.getByTestId('phase'), 'Đang tạm nghỉ');
      await waitForText(page.getByTestId('pause-reason'), /^Tạm nghỉ từ \d\d:\d\d: Nghỉ giải lao 15 phút$/);
      await waitForText(sec.page.getByTestId('phase'), 'Đang tạm nghỉ');
      await page.getByTestId('resume').click();
      await waitForText(page.getByTestId('phase'), 'Đang họp');
      await page.getByTestId('end').click();
      await page.getByTestId('end-confirm').click();
      await waitForText(page.getByTestId('phase'), 'Đã bế mạc');
      await waitForText(sec.page.getByTestId('phase'), 'Đã bế mạc');

      // The chair's own paired tablet: from the meeting page, one tap to the console, which it runs.
      const chairTablet = await pairTablet(chrome.browser, desk, people.an, '1470');
      await chairTablet.page.goto(`${box.origin}/meetings/${meeting.id}`);
      await chairTablet.page.getByTestId('open-console').click();
      await chairTablet.page.waitForURL(`${box.origin}${url}`);
      await waitForText(chairTablet.page.getByTestId('phase'), 'Đã bế mạc');
      await chairTablet.page.getByTestId('operator-name').waitFor();
      assert.equal(await chairTablet.page.getByTestId('console-readonly').count(), 0);
      await chairTablet.context.close();

      await Promise.all([chairCtx.close(), sec.context.close(), sec2.context.close(), ...Object.values(tablets).map((t) => t.context.close())]);
    }),
  );
});
