// The projector screen (issue 9): the secretary gives the room's screen a code at the desk, the
// screen (a 1920×1080 "TV" and a 1280×720 laptop on HDMI) pairs with it, and from then on shows
// the live meeting in large type: the current item, the speaker with a countdown from the box's
// clock, the next in the queue, the quorum, a recess with its reason. It survives the box
// restarting, pairs by itself from the QR link, and tells the room when it was revoked.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import path from 'node:path';
import { Box, SHOTS_DIR, addStaff, apiAs, draftMeeting, launchChromium, pairTablet, publishMeeting, waitForText, withBoxLog, waitForCount } from './helpers.mjs';

/** With PHONGHOP_SCREENSHOTS set: the wall as it is, at its own size. */
async function shot(page, name) {
  if (SHOTS_DIR) await page.screenshot({ path: path.join(SHOTS_DIR, `screen-${name}.png`) });
}

const SECRETARY = { username: 'thuky', name: 'Trần Thị Thu', password: 'thuky-demo-123' };
const CHAIR = { username: 'chutich', name: 'Nguyễn Văn An', password: 'chutich-demo-123' };

/** A paired tablet's API: its device cookie, taken from the browser that paired it. */
async function tabletApi(box, tablet) {
  const cookie = (await tablet.context.cookies()).find((c) => c.name === 'phonghop_device');
  assert.ok(cookie, 'the tablet holds a device cookie');
  return async (method, pathname, json) => {
    const r = await box.request(method, pathname, { json, headers: { Cookie: `phonghop_device=${cookie.value}`, Origin: box.origin } });
    assert.ok(r.status >= 200 && r.status < 300, `${method} ${pathname} → ${r.status} ${r.text}`);
    return r.json;
  };
}

const rid = () => [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');

describe('the projector screen', () => {
  let box;
  let chrome;
  let desk;
  let chair;
  let people = {};
  let meeting;
  let item;

  before(async () => {
    box = await Box.create({ room: 'Phòng họp UBND xã Tân Phú' });
    await addStaff(box, [
      { ...SECRETARY, role: 'secretary' },
      { ...CHAIR, role: 'chair' },
    ]);
    chrome = await launchChromium(box.caPem);
    desk = await apiAs(box, SECRETARY);
    chair = await apiAs(box, CHAIR);
    // Later today (in Vietnam, as the screen's clock sees it), so the screen picks it as today's.
    ({ meeting, people } = await draftMeeting(desk, { people: [['binh', 'Trần Thị Bình'], ['cuong', 'Lê Văn Cường'], ['dung', 'Phạm Thị Dung']], startsInMinutes: 5 }));
    item = await desk.call('POST', `/api/meetings/${meeting.id}/items`, { title: 'Dự toán ngân sách xã năm 2027', presenter: 'Văn phòng', duration_minutes: 30 });
    await publishMeeting(desk, chair, meeting.id);
  });

  after(async () => {
    await chrome?.close();
    await box?.destroy();
  });

  test('paired at the desk, it shows the speaker, the queue, a recess, and survives a restart', { timeout: 240_000 }, async () => {
    await withBoxLog(box, async () => {
      // The secretary's desk: a code for the screen.
      const deskContext = await chrome.browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
      const deskPage = await deskContext.newPage();
      await deskPage.goto(`${box.origin}/`);
      const signedIn = await deskPage.evaluate(
        async ({ username, password }) =>
          (await fetch('/api/session', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username, password }) })).status,
        SECRETARY,
      );
      assert.equal(signedIn, 200);
      await deskPage.goto(`${box.origin}/desk/displays`);
      await deskPage.getByTestId('no-displays').waitFor();
      await deskPage.getByTestId('display-label').fill('Máy chiếu hội trường');
      await deskPage.getByTestId('display-issue-code').click();
      const shownCode = (await deskPage.getByTestId('display-code').innerText()).replace(/\D/g, '');
      assert.match(shownCode, /^\d{6}$/);
      await deskPage.getByTestId('display-code-card').getByTestId('qr-code').waitFor();

      // The TV: not paired, a big pairing form; the code pairs it and the meeting appears.
      const tv = await chrome.browser.newContext({ viewport: { width: 1920, height: 1080 }, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
      const screen = await tv.newPage();
      await screen.goto(`${box.origin}/screen`);
      await screen.getByTestId('screen-pair-form').waitFor();
      await shot(screen, 'pair-1920');
      assert.equal(await screen.locator('.topbar').count(), 0, 'no app bar on the projector');
      await screen.getByTestId('code-digit').first().fill(shownCode);
      await waitForText(screen.getByTestId('screen-title'), 'Phiên họp thường kỳ tháng 11');
      await waitForText(screen.getByTestId('screen-room'), 'Phòng họp UBND xã Tân Phú');
      await screen.getByTestId('screen-not-started').waitFor();
      // The desk hears of the pairing at once.
      await deskPage.getByTestId('displays-done').waitFor();
      await waitForText(deskPage.getByTestId('display-row').first(), /Máy chiếu hội trường/);

      // Two delegates check in on their tablets; the quorum moves on the wall.
      const binh = await pairTablet(chrome.browser, desk, people.binh, '2580');
      const cuong = await pairTablet(chrome.browser, desk, people.cuong, '1357');
      const asBinh = await tabletApi(box, binh);
      const asCuong = await tabletApi(box, cuong);
      await asBinh('POST', `/api/meetings/${meeting.id}/check-in`);
      await asCuong('POST', `/api/meetings/${meeting.id}/check-in`);

      // The chair opens the meeting and the item; two delegates ask for the floor.
      await chair.call('POST', `/api/meetings/${meeting.id}/live/start`, {});
      await chair.call('POST', `/api/meetings/${meeting.id}/live/item`, { item_id: item.id });
      await waitForText(screen.getByTestId('screen-quorum'), /Có mặt 2\/3 · cần 2\s+✓ Đủ số lượng/);
      await waitForText(screen.getByTestId('screen-item').locator('.item-title'), '1. Dự toán ngân sách xã năm 2027');
      await waitForText(screen.getByTestId('screen-item-time'), /^Đã dùng 0:0\d \/ dự kiến 30:00$/);
      const first = await asBinh('POST', `/api/meetings/${meeting.id}/live/speakers`, { request_id: rid(), kind: 'opinion' });
      await asCuong('POST', `/api/meetings/${meeting.id}/live/speakers`, { request_id: rid(), kind: 'question' });
      const asked = first.queue.find((r) => r.person_id === people.binh.id);
      assert.ok(asked, 'Bình is in the queue');
      await waitForText(screen.getByTestId('screen-next').first(), /Trần Thị Bình\s+Ý kiến/);
      await waitForCount(screen.getByTestId('screen-next'), 2);

      // The floor to Bình, for 90 s: her name, position, kind and a running countdown; Cường next.
      await chair.call('POST', `/api/meetings/${meeting.id}/live/speakers/${asked.id}/floor`, { seconds: 90 });
      await waitForText(screen.getByTestId('screen-speaker-name'), 'Trần Thị Bình');
      await waitForText(screen.getByTestId('screen-speaker-kind'), 'Ý kiến');
      await waitForText(screen.getByTestId('screen-countdown'), /^1:(30|2\d)$/);
      await waitForText(screen.getByTestId('screen-next').first(), /Lê Văn Cường\s+Chất vấn/);
      await waitForCount(screen.getByTestId('screen-next'), 1);
      // The countdown runs: it drops by at least 2 s (waited for, not slept: on a loaded
      // machine the wall's timer may fire late, and one fixed sleep read it once too early).
      const secs = (t) => Number(t.split(':')[0]) * 60 + Number(t.split(':')[1]);
      const before = secs((await screen.getByTestId('screen-countdown').innerText()).trim());
      await screen.waitForFunction(
        (b) => {
          const [m, s] = document.querySelector('[data-testid="screen-countdown"]').innerText.trim().split(':').map(Number);
          return b - (m * 60 + s) >= 2;
        },
        before,
        { timeout: 15_000 },
      );
      assert.equal(await screen.getByTestId('screen-countdown').evaluate((el) => el.parentElement.classList.contains('over')), false);
      // Large enough to read from the back of the room.
      const nameSize = await screen.getByTestId('screen-speaker-name').evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
      assert.ok(nameSize >= 90, `speaker's name at ${nameSize}px on 1920×1080`);
      // No input control on the wall.
      assert.equal(await screen.locator('input, button, select, textarea').count(), 0);
      await shot(screen, 'speaker-1920');
      await screen.setViewportSize({ width: 1280, height: 720 });
      await shot(screen, 'speaker-1280');
      await screen.setViewportSize({ width: 1920, height: 1080 });

      // A recess: the word, the reason, since when.
      await chair.call('POST', `/api/meetings/${meeting.id}/live/pause`, { reason: 'Nghỉ giải lao 15 phút' });
      await waitForText(screen.getByTestId('screen-recess-reason'), 'Nghỉ giải lao 15 phút');
      await waitForText(screen.getByTestId('screen-recess').locator('.recess-word'), 'NGHỈ GIẢI LAO');
      await shot(screen, 'recess-1920');

      // The box restarts on the same port: the screen comes back to the same state by itself.
      const port = box.port;
      await box.stop();
      await screen.getByText('Đang kết nối lại…').waitFor({ timeout: 15_000 });
      await box.start({ httpsPort: port });
      await screen.getByText('Đang kết nối lại…').waitFor({ state: 'detached', timeout: 30_000 });
      await waitForText(screen.getByTestId('screen-recess-reason'), 'Nghỉ giải lao 15 phút');
      // And follows what happens after it: the meeting resumes, Cường is still next.
      const chairAgain = await apiAs(box, CHAIR);
      await chairAgain.call('POST', `/api/meetings/${meeting.id}/live/resume`, {});
      await waitForText(screen.getByTestId('screen-next').first(), /Lê Văn Cường\s+Chất vấn/, { timeout: 15_000 });
      await screen.getByTestId('screen-item').waitFor();
      // Cường gets 10 s: past them the countdown goes negative, in red, with "Quá giờ".
      const view = await chairAgain.call('GET', `/api/meetings/${meeting.id}/live`);
      const next = view.queue.find((r) => r.person_id === people.cuong.id);
      await chairAgain.call('POST', `/api/meetings/${meeting.id}/live/speakers/${next.id}/floor`, { seconds: 10 });
      await waitForText(screen.getByTestId('screen-speaker-name'), 'Lê Văn Cường');
      await waitForText(screen.getByTestId('screen-countdown'), /^−0:0\d$/, { timeout: 20_000 });
      const red = await screen.getByTestId('screen-countdown').evaluate((el) => getComputedStyle(el).color);
      assert.equal(red, 'rgb(255, 92, 77)', 'over time is red');
      await waitForText(screen.locator('.over-word'), /^quá giờ$/i);
      assert.equal(await screen.getByTestId('screen-next').count(), 0);
      await shot(screen, 'over-1920');

      // Smaller: a laptop on HDMI at 1280×720 still fits the whole wall without scrolling.
      await screen.setViewportSize({ width: 1280, height: 720 });
      const fits = await screen.evaluate(() => document.documentElement.scrollHeight <= window.innerHeight + 1);
      assert.ok(fits, 'the wall fits 1280×720');

      // The secretary revokes the screen at the desk: the wall says so.
      await deskPage.reload();
      await deskPage.getByTestId('display-revoke').click();
      await deskPage.getByTestId('display-revoke-yes').click();
      await screen.getByTestId('screen-revoked').waitFor({ timeout: 20_000 });
      await waitForText(screen.getByTestId('screen-revoked').locator('strong'), 'Màn hình này đã bị thu hồi');
      await shot(screen, 'revoked-1280');
      await shot(deskPage, 'desk');

      for (const c of [binh.context, cuong.context, tv, deskContext]) await c.close();
    });
  });

  test('the QR link pairs a screen by itself and drops the code from the address', { timeout: 120_000 }, async () => {
    await withBoxLog(box, async () => {
      const { link } = await desk.call('POST', '/api/displays/code', { label: 'TV phòng họp nhỏ' });
      const url = new URL(link);
      assert.equal(url.pathname, '/screen');
      const tv = await chrome.browser.newContext({ viewport: { width: 1280, height: 720 }, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
      const screen = await tv.newPage();
      await screen.goto(`${box.origin}/screen${url.search}`);
      await waitForText(screen.getByTestId('screen-title'), /Phiên họp thường kỳ tháng 11/);
      assert.equal(new URL(screen.url()).search, '', 'the code is gone from the address bar');
      const me = await screen.evaluate(async () => (await fetch('/api/me')).json());
      assert.equal(me.kind, 'display');
      assert.equal(me.display.label, 'TV phòng họp nhỏ');
      // The same link again is used up: the screen says so in Vietnamese and offers the form.
      const other = await tv.browser().newContext({ viewport: { width: 1280, height: 720 }, locale: 'vi-VN' });
      const again = await other.newPage();
      await again.goto(`${box.origin}/screen${url.search}`);
      await waitForText(again.getByTestId('screen-pair-error'), /Mã ghép nối không đúng, đã hết hạn hoặc đã được dùng/);
      await again.getByTestId('screen-pair-form').waitFor();
      await other.close();
      await tv.close();
    });
  });
});
