// Issue 9's "done when", with every person on their own real screen: three delegates' tablets,
// the chair's console and the projector, against one real box. Two delegates ask to speak and a
// third raises a point of order that jumps ahead; the chair gives the floor; the speaker's tablet
// shows the countdown and the projector shows the speaker and the next ones; the chair ends the
// speech and the history keeps it; "follow me" on page 3 moves the delegates' readers there, and
// one delegate leaves and comes back with one tap. Nothing here goes through the API except
// setting the meeting up.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Box, addStaff, apiAs, draftMeeting, launchChromium, newTablet, pairTablet, printPdf, publishMeeting, screenshots, uploadPdf, waitForText, withBoxLog } from './helpers.mjs';

const SECRETARY = { username: 'thuky', name: 'Trần Thị Thu', password: 'thuky-demo', role: 'secretary' };
const CHAIR = { username: 'chutich', name: 'Nguyễn Văn An', password: 'chutich-demo', role: 'chair' };

/** The names a tablet shows in the queue, in order, without "(bạn)". */
async function tabletQueue(page) {
  return (await page.getByTestId('live-queue-row').locator('.q-name').allInnerTexts()).map((n) => n.replace(/\s*\(bạn\)$/, '').trim());
}

async function until(what, fn, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    last = await fn().catch((e) => e);
    if (last === true) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${what}: ${last}`);
}

describe('the live meeting, every screen at once', () => {
  let box;
  let chrome;
  let desk;
  let meeting;
  let people = {};

  before(async () => {
    box = await Box.create({ room: 'Phòng họp UBND xã Tân Phú' });
    await addStaff(box, [SECRETARY, CHAIR]);
    chrome = await launchChromium(box.caPem);
    desk = await apiAs(box, SECRETARY);
    ({ meeting, people } = await draftMeeting(desk, { people: [['an', 'Nguyễn Văn An'], ['binh', 'Trần Thị Bình'], ['cuong', 'Lê Văn Cường'], ['dung', 'Phạm Thị Dung']], startsInMinutes: 15, chair: 'an' }));
    const item = await desk.call('POST', `/api/meetings/${meeting.id}/items`, { title: 'Dự toán ngân sách xã năm 2027', presenter: 'Kế toán', duration_minutes: 30 });
    await uploadPdf(box, desk.cookie, `/api/meetings/${meeting.id}/items/${item.id}/documents?title=${encodeURIComponent('Tờ trình dự toán')}`, await printPdf(chrome.browser, [1, 2, 3, 4].map((n) => `<h1>Tờ trình — trang ${n}</h1>`)));
    const chair = await apiAs(box, CHAIR);
    await publishMeeting(desk, chair, meeting.id);
  });

  after(async () => {
    await chrome?.close();
    await box?.destroy();
  });

  test('queue, floor, countdown, projector, history, follow me', { timeout: 150_000 }, () =>
    withBoxLog(box, async () => {
      // Three delegates pair their tablets and check in with one tap each.
      const tablets = {};
      for (const [key, pin] of [
        ['binh', '2580'],
        ['cuong', '1357'],
        ['dung', '2468'],
      ]) {
        const { page } = await pairTablet(chrome.browser, desk, people[key], pin);
        await page.goto(`${box.origin}/meetings/${meeting.id}`);
        await page.getByTestId('checkin-button').click();
        await page.getByTestId('checked-in').waitFor();
        tablets[key] = page;
      }
      const { binh, cuong, dung } = tablets;

      // The projector pairs from the secretary's QR link.
      const { link } = await desk.call('POST', '/api/displays/code', { label: 'Máy chiếu hội trường' });
      const wall = await (await newTablet(chrome.browser)).newPage();
      await wall.setViewportSize({ width: 1920, height: 1080 });
      const qr = new URL(link, box.origin);
      await wall.goto(`${box.origin}${qr.pathname}${qr.search}`);
      await waitForText(wall.getByTestId('screen-title'), 'Phiên họp thường kỳ tháng 11');

      // The chair signs in and opens the console; Khai mạc.
      const console_ = await (await newTablet(chrome.browser)).newPage();
      const url = `/chair/meetings/${meeting.id}`;
      await console_.goto(`${box.origin}${url}`);
      await console_.locator('#signin-username').fill(CHAIR.username);
      await console_.locator('#signin-password').fill(CHAIR.password);
      await console_.locator('form button[type="submit"]').click();
      await console_.waitForURL(`${box.origin}${url}`);
      await console_.getByTestId('start').click();
      await waitForText(console_.getByTestId('phase'), 'Đang họp');
      for (const p of [binh, cuong, dung]) await waitForText(p.getByTestId('live-phase'), 'Đang họp');
      await wall.getByTestId('screen-item').waitFor();

      // Bình (opinion) and Cường (question) ask to speak; Dung's point of order jumps ahead.
      const ask = async (page, kind) => {
        await page.getByTestId('live-ask').click();
        await page.getByTestId(`live-kind-${kind}`).waitFor();
        await page.waitForTimeout(450); // a person reads the choices; a faster tap counts as a double tap
        await page.getByTestId(`live-kind-${kind}`).click();
        await page.getByTestId('live-my-place').waitFor();
      };
      await ask(binh, 'opinion');
      await ask(cuong, 'question');
      await ask(dung, 'procedural');
      const order = ['Phạm Thị Dung', 'Trần Thị Bình', 'Lê Văn Cường'];
      for (const p of [binh, cuong, dung]) {
        await until('the order on every tablet', async () => JSON.stringify(await tabletQueue(p)) === JSON.stringify(order) || JSON.stringify(await tabletQueue(p)));
      }
      await until('the order on the console', async () => {
        const names = await console_.getByTestId('queue-row').locator('.q-name').allInnerTexts();
        return JSON.stringify(names) === JSON.stringify(order) || JSON.stringify(names);
      });
      await waitForText(dung.getByTestId('live-my-place'), /thứ 1/);

      // The chair gives Dung the floor: her tablet counts down; the wall shows her and the next two.
      await console_.getByTestId('queue-row').first().getByTestId('give-floor').click();
      await waitForText(console_.getByTestId('speaker-name'), 'Phạm Thị Dung');
      await dung.getByTestId('live-my-turn').waitFor();
      await waitForText(dung.getByTestId('live-my-countdown'), /^(1:00|0:5\d)$/);
      await waitForText(wall.getByTestId('screen-speaker-name'), 'Phạm Thị Dung');
      await waitForText(wall.getByTestId('screen-countdown'), /^(1:00|0:5\d)$/);
      await waitForText(wall.getByTestId('screen-next').first(), /Trần Thị Bình/);
      await waitForText(wall.getByTestId('screen-next').nth(1), /Lê Văn Cường/);
      await waitForText(binh.getByTestId('live-speaker-name'), 'Phạm Thị Dung');
      await screenshots(wall, 'live-meeting-wall');

      // The chair ends the speech; the history keeps it, and the wall has nobody speaking.
      await console_.getByTestId('end-speech').click();
      await console_.getByTestId('nobody-speaking').waitFor();
      await waitForText(console_.getByTestId('history-row').first(), /^Phạm Thị Dung\s+1\. Dự toán ngân sách xã năm 2027\s+Kiến nghị thủ tục/);
      await until('the wall drops the speaker', async () => (await wall.getByTestId('screen-speaker-name').count()) === 0);
      const { history } = await desk.call('GET', `/api/meetings/${meeting.id}/live`);
      assert.equal(history.length, 1);
      assert.equal(history[0].person_id, people.dung.id);
      assert.equal(history[0].kind, 'procedural');

      // Follow me on page 3: every delegate's reader opens the document there.
      await console_.getByTestId('follow-page').fill('3');
      await console_.getByTestId('follow-start').click();
      await waitForText(console_.getByTestId('follow-now'), 'Đang trình chiếu: Tờ trình dự toán, trang 3');
      for (const p of [binh, cuong, dung]) {
        await waitForText(p.getByTestId('reader-page'), /^Trang 3\/4/, { timeout: 20_000 });
        await waitForText(p.getByTestId('follow-on'), 'Đang theo chủ tọa · trang 3');
      }
      // Cường leaves; the chair moves on; Cường stays, then comes back with one tap.
      await cuong.getByTestId('follow-leave').click();
      await waitForText(cuong.getByTestId('follow-return'), 'Theo chủ tọa (trang 3)');
      await console_.getByTestId('follow-next').click();
      for (const p of [binh, dung]) await waitForText(p.getByTestId('reader-page'), /^Trang 4\/4/);
      await waitForText(cuong.getByTestId('follow-return'), 'Theo chủ tọa (trang 4)');
      assert.match(await cuong.getByTestId('reader-page').innerText(), /^Trang 3\/4/);
      await cuong.getByTestId('follow-return').click();
      await waitForText(cuong.getByTestId('reader-page'), /^Trang 4\/4/);
      await waitForText(cuong.getByTestId('follow-on'), 'Đang theo chủ tọa · trang 4');
    }),
  );
});
