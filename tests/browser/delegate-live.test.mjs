// The delegate's side of the live meeting (issue 9), on three real tablets against the real box,
// with the chair acting through the API: the meeting opens, two delegates ask to speak and a third
// raises a procedural point that jumps the queue (every tablet shows the same order); a double
// tap and a request whose answer is lost and retried offline make exactly one entry each; the
// speaker's tablet (whose clock is 3 hours off) shows the right countdown, red when over time;
// "follow me" on page 3 moves the readers there, one delegate leaves and comes back with one tap,
// a document a delegate may not see is named, not opened; a reload restores the same state.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Box, REPO, addStaff, apiAs, draftMeeting, launchChromium, pairTablet, printPdf, publishMeeting, screenshots, skewClock, uploadPdf, waitForText, withBoxLog } from './helpers.mjs';

const SECRETARY = { username: 'thuky', name: 'Trần Thị Thu', password: 'thuky-demo' };
const CHAIR = { username: 'chutich', name: 'Nguyễn Văn An', password: 'chutich-demo' };
const HOURS_OFF = 3;

/** The names in the queue a tablet shows, in order. */
async function queueNames(page) {
  return page.getByTestId('live-queue-row').locator('.q-name').allInnerTexts();
}

async function waitForQueue(page, names) {
  const deadline = Date.now() + 10_000;
  let got = [];
  while (Date.now() < deadline) {
    got = (await queueNames(page).catch(() => [])).map((n) => n.replace(/\s*\(bạn\)$/, '').trim());
    if (JSON.stringify(got) === JSON.stringify(names)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.deepEqual(got, names, 'the queue this tablet shows');
}

/** Taps "Xin phát biểu", then waits as a person reads the kinds (a tap sooner counts as a double tap). */
async function openKinds(page) {
  await page.getByTestId('live-ask').click();
  await page.getByTestId('live-kind-opinion').waitFor();
  await page.waitForTimeout(450);
}

/** "1:58" / "−0:03" → seconds. */
function seconds(text) {
  const m = /^(−|-)?(\d+):(\d\d)$/.exec(text.trim());
  assert.ok(m, `a countdown, not ${JSON.stringify(text)}`);
  return (m[1] ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

describe('the delegate in the live meeting', () => {
  let box;
  let chrome;
  let desk;
  let chair;
  let tmp;
  let people = {};
  let meeting;
  let items;
  let pdfDoc;
  let secretDoc;

  before(async () => {
    box = await Box.create({ room: 'Phòng họp UBND xã Tân Phú' });
    await addStaff(box, [
      { ...SECRETARY, role: 'secretary' },
      { ...CHAIR, role: 'chair' },
    ]);
    chrome = await launchChromium(box.caPem);
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'phonghop-live-'));
    const pdf = path.join(tmp, 'to-trinh-6-trang.pdf');
    const pages = Array.from({ length: 6 }, (_, i) => `<h1>Trang ${i + 1}</h1><p>Điều chỉnh dự toán chi ngân sách xã năm 2026, mục ${i + 1}.</p>`);
    fs.writeFileSync(pdf, await printPdf(chrome.browser, pages, { style: 'font:15pt serif' }));
    desk = await apiAs(box, SECRETARY);
    chair = await apiAs(box, CHAIR);
    ({ meeting, people } = await draftMeeting(desk, { people: [['an', 'Nguyễn Văn An'], ['binh', 'Trần Thị Bình'], ['cuong', 'Lê Văn Cường'], ['dung', 'Phạm Thị Dung']], startsInMinutes: 30, chair: 'an' }));
    items = [
      await desk.call('POST', `/api/meetings/${meeting.id}/items`, { title: 'Tờ trình điều chỉnh dự toán', presenter: 'Kế toán' }),
      await desk.call('POST', `/api/meetings/${meeting.id}/items`, { title: 'Báo cáo kinh tế - xã hội', presenter: 'Văn phòng' }),
    ];
    const docs = `/api/meetings/${meeting.id}/items/${items[0].id}/documents?title=`;
    pdfDoc = await uploadPdf(box, desk.cookie, `${docs}${encodeURIComponent('Tờ trình điều chỉnh dự toán')}`, fs.readFileSync(pdf), path.basename(pdf));
    secretDoc = await uploadPdf(box, desk.cookie, `${docs}${encodeURIComponent('Hồ sơ nhân sự (mật)')}`, fs.readFileSync(path.join(REPO, 'tests', 'fixtures', 'giay-moi-hop.pdf')), 'giay-moi-hop.pdf');
    await desk.call('PUT', `/api/documents/${secretDoc.id}`, { title: 'Hồ sơ nhân sự (mật)', restricted_to: [people.binh.id] });
    await publishMeeting(desk, chair, meeting.id);
  });

  after(async () => {
    await chrome?.close();
    await box?.destroy();
    if (tmp) await fsp.rm(tmp, { recursive: true, force: true });
  });

  test('asking to speak, the floor, follow me and a reload, on three tablets', { timeout: 150_000 }, async () => {
    await withBoxLog(box, async () => {
      const live = `/api/meetings/${meeting.id}/live`;
      const meetingUrl = `${box.origin}/meetings/${meeting.id}`;
      const tablets = {};
      for (const [key, pin] of [
        ['binh', '2580'],
        ['cuong', '1357'],
        ['dung', '2468'],
      ]) {
        tablets[key] = await pairTablet(chrome.browser, desk, people[key], pin);
      }
      // Dung's tablet runs 3 hours fast (a tablet whose clock was never set).
      await skewClock(tablets.dung.context, HOURS_OFF * 3_600_000);
      const { binh, cuong, dung } = { binh: tablets.binh.page, cuong: tablets.cuong.page, dung: tablets.dung.page };
      for (const p of [binh, cuong, dung]) await p.goto(meetingUrl);
      const skew = await dung.evaluate(() => Date.now() - performance.timeOrigin - performance.now());
      assert.ok(Math.abs(skew - HOURS_OFF * 3_600_000) < 60_000, `Dung's tablet runs ${HOURS_OFF} h fast (${skew} ms)`);

      // Before the meeting opens: "Chưa khai mạc", and "Xin phát biểu" cannot be tapped, saying why.
      for (const p of [binh, cuong, dung]) {
        await waitForText(p.getByTestId('live-phase'), 'Chưa khai mạc');
      }
      await binh.getByTestId('checkin-button').click();
      await cuong.getByTestId('checkin-button').click();
      await binh.getByTestId('checked-in').waitFor();
      await cuong.getByTestId('checked-in').waitFor();
      assert.equal(await binh.getByTestId('live-ask').isDisabled(), true);
      await waitForText(binh.getByTestId('live-ask-blocked'), /chưa khai mạc/);

      // From here on Bình's tablet applies what happens itself: not one GET until the reader opens.
      const binhGets = [];
      binh.on('request', (r) => {
        const u = new URL(r.url());
        if (r.method() === 'GET' && u.pathname.startsWith('/api/') && !u.pathname.endsWith('/events')) binhGets.push(u.pathname);
      });

      // The chair opens the meeting (and its first item): every tablet shows it, without a reload.
      await chair.call('POST', `${live}/start`, {});
      for (const p of [binh, cuong, dung]) {
        await waitForText(p.getByTestId('live-phase'), 'Đang họp');
        await waitForText(p.locator('[data-testid="live-item"] .item-title'), '1. Tờ trình điều chỉnh dự toán');
      }

      // Bình double-taps "Xin phát biểu": the kinds show, nothing is sent; then double-taps "Ý kiến".
      await binh.getByTestId('live-ask').dblclick();
      await binh.getByTestId('live-kind-procedural').waitFor();
      assert.match(await binh.getByTestId('live-kind-procedural').innerText(), /lên trước hàng chờ/);
      assert.equal((await chair.call('GET', live)).queue.length, 0, 'a double tap on "Xin phát biểu" sends nothing');
      await binh.waitForTimeout(450);
      await binh.getByTestId('live-kind-opinion').dblclick();
      await waitForText(binh.getByTestId('live-my-place'), 'Đã đăng ký, bạn đứng thứ 1');

      // Cường's request is slow: "Đang gửi…". It then reaches the box, but the answer is lost as
      // the Wi-Fi drops; the tablet tries again with the same id, and again once back online.
      const cookies = await tablets.cuong.context.cookies(box.origin);
      const cookie = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
      const speakers = `**/api/meetings/${meeting.id}/live/speakers`;
      const sentIds = [];
      let failed = 0;
      const isSpeakerPost = (r) => r.method() === 'POST' && r.url().endsWith('/live/speakers');
      cuong.on('request', (r) => {
        if (isSpeakerPost(r)) sentIds.push(JSON.parse(r.postData()).request_id);
      });
      cuong.on('requestfailed', (r) => {
        if (isSpeakerPost(r)) failed += 1;
      });
      let release;
      const held = new Promise((r) => (release = r));
      cuong.route(
        speakers,
        async (route) => {
          await held;
          await tablets.cuong.context.setOffline(true);
          const res = await box.request('POST', `${live}/speakers`, { json: JSON.parse(route.request().postData()), headers: { Cookie: cookie, Origin: box.origin } });
          assert.equal(res.status, 200, res.text);
          await route.abort('internetdisconnected');
        },
        { times: 1 },
      );
      await openKinds(cuong);
      await cuong.getByTestId('live-kind-question').click();
      await waitForText(cuong.getByTestId('live-sending'), 'Đang gửi…');
      release();
      // Retries fail while offline (the tablet says it keeps trying, unless the feed already
      // told it the box has the request). Wait until a retry has failed, not merely started: a
      // retry that starts just before the link comes back would otherwise succeed as the second
      // try, and the count below would be one short on a loaded machine.
      for (const until = Date.now() + 10_000; failed < 2; ) {
        assert.ok(Date.now() < until, 'the tablet tried again while offline');
        await cuong.waitForTimeout(100);
      }
      const answered = cuong.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/live/speakers') && r.status() === 200);
      await tablets.cuong.context.setOffline(false);
      await answered;
      await waitForText(cuong.getByTestId('live-my-place'), 'Đã đăng ký, bạn đứng thứ 2', { timeout: 15_000 });
      assert.ok(sentIds.length >= 3, `sent, retried offline, retried online: ${sentIds.length}`);
      assert.equal(new Set(sentIds).size, 1, 'every try carried the same request id');
      const firstId = sentIds[0];
      let view = await chair.call('GET', live);
      assert.deepEqual(
        view.queue.map((r) => [r.person_id, r.kind]),
        [
          [people.binh.id, 'opinion'],
          [people.cuong.id, 'question'],
        ],
        'one entry for the double tap, one for the retried request',
      );
      assert.equal(view.queue[1].id, firstId, 'the retry sent the same request id');

      // Dung has not checked in: the panel offers the check-in instead of "Xin phát biểu".
      await dung.getByTestId('live-checkin').waitFor();
      assert.equal(await dung.getByTestId('live-ask').count(), 0);
      await dung.getByTestId('live-checkin').click();
      await openKinds(dung);
      await screenshots(dung, 'delegate-live-0-kinds');
      await dung.getByTestId('live-kind-procedural').click();
      await waitForText(dung.getByTestId('live-my-place'), 'Đã đăng ký, bạn đứng thứ 1');

      // The procedural point jumps ahead; every tablet shows the same order, and its own place.
      const order = ['Phạm Thị Dung', 'Trần Thị Bình', 'Lê Văn Cường'];
      for (const p of [binh, cuong, dung]) await waitForQueue(p, order);
      await waitForText(binh.getByTestId('live-my-place'), 'Đã đăng ký, bạn đứng thứ 2');
      await waitForText(cuong.getByTestId('live-my-place'), 'Đã đăng ký, bạn đứng thứ 3');
      await screenshots(cuong, 'delegate-live-1-queue');

      // A reload mid-queue restores the same state.
      await cuong.reload();
      await waitForText(cuong.locator('[data-testid="live-item"] .item-title'), '1. Tờ trình điều chỉnh dự toán');
      await waitForQueue(cuong, order);
      await waitForText(cuong.getByTestId('live-my-place'), 'Đã đăng ký, bạn đứng thứ 3');

      // The chair gives Dung the floor for 2 minutes: her tablet, 3 hours fast, counts from 2:00.
      view = await chair.call('GET', live);
      const dungReq = view.queue.find((r) => r.person_id === people.dung.id);
      await chair.call('POST', `${live}/speakers/${dungReq.id}/floor`, { seconds: 120 });
      await waitForText(dung.getByTestId('live-my-turn'), /^Mời đồng chí phát biểu/);
      const left = seconds(await dung.getByTestId('live-my-countdown').innerText());
      assert.ok(left > 110 && left <= 120, `Dung's countdown reads ${left} s`);
      assert.equal(await dung.getByTestId('live-my-turn').getAttribute('data-over'), 'false');
      await screenshots(dung, 'delegate-live-2-my-turn');
      await waitForText(binh.getByTestId('live-speaker-name'), 'Phạm Thị Dung');
      const seen = seconds(await binh.getByTestId('live-countdown').innerText());
      assert.ok(seen > 110 && seen <= 120, `Bình sees ${seen} s left`);
      await waitForQueue(binh, ['Trần Thị Bình', 'Lê Văn Cường']);
      await waitForText(binh.getByTestId('live-my-place'), 'Đã đăng ký, bạn đứng thứ 1');

      // Bình then gets 10 seconds (it will run over while the readers move).
      const binhReq = view.queue.find((r) => r.person_id === people.binh.id);
      await chair.call('POST', `${live}/speakers/${binhReq.id}/floor`, { seconds: 10 });
      await waitForText(binh.getByTestId('live-my-turn'), /^Mời đồng chí phát biểu/);

      assert.deepEqual(binhGets, [], 'every event was applied on the tablet, none fetched');

      // Follow me: page 3 of the PDF. Every tablet opens it there.
      const readerUrl = `${box.origin}/read/${meeting.id}/${pdfDoc.id}`;
      await chair.call('PUT', `${live}/follow`, { document_id: pdfDoc.id, page: 3 });
      for (const p of [binh, cuong, dung]) {
        await p.waitForURL(readerUrl);
        await waitForText(p.getByTestId('reader-page'), /^Trang 3\/6/);
        await waitForText(p.getByTestId('follow-on'), 'Đang theo chủ tọa · trang 3');
      }

      // Cường leaves (stays on page 3); the chair turns to page 4: the others follow, he does not.
      await cuong.getByTestId('follow-leave').click();
      await waitForText(cuong.getByTestId('follow-return'), 'Theo chủ tọa (trang 3)');
      await chair.call('PUT', `${live}/follow`, { document_id: pdfDoc.id, page: 4 });
      for (const p of [binh, dung]) await waitForText(p.getByTestId('reader-page'), /^Trang 4\/6/);
      await waitForText(cuong.getByTestId('follow-return'), 'Theo chủ tọa (trang 4)');
      await screenshots(cuong, 'delegate-live-4-left');
      await screenshots(dung, 'delegate-live-3-following');
      assert.match(await cuong.getByTestId('reader-page').innerText(), /^Trang 3\/6/);
      // One tap back: page 4, following again.
      await cuong.getByTestId('follow-return').click();
      await waitForText(cuong.getByTestId('reader-page'), /^Trang 4\/6/);
      await waitForText(cuong.getByTestId('follow-on'), 'Đang theo chủ tọa · trang 4');

      // A reload in the reader keeps following, at the chair's page; one who left stays left.
      await cuong.getByTestId('follow-leave').click();
      await dung.reload();
      await cuong.reload();
      await waitForText(dung.getByTestId('reader-page'), /^Trang 4\/6/);
      await waitForText(dung.getByTestId('follow-on'), 'Đang theo chủ tọa · trang 4');
      await waitForText(cuong.getByTestId('follow-return'), 'Theo chủ tọa (trang 4)');

      // Bình's 10 seconds ran out: the countdown on her tablet is red and negative.
      await binh.getByTestId('reader-my-turn').waitFor();
      await binh.waitForFunction(() => document.querySelector('[data-testid="reader-my-turn"]')?.getAttribute('data-over') === 'true', null, { timeout: 15_000 });
      assert.match(await binh.getByTestId('reader-my-countdown').innerText(), /^−0:\d\d$/);
      const red = await binh.getByTestId('reader-my-turn').evaluate((el) => getComputedStyle(el).backgroundColor);
      assert.equal(red, 'rgb(163, 20, 15)', 'over time is red');
      // A reload mid-speech shows the same running count, by the box's clock.
      await binh.reload();
      await binh.waitForFunction(() => document.querySelector('[data-testid="reader-my-turn"]')?.getAttribute('data-over') === 'true');
      assert.ok(seconds(await binh.getByTestId('reader-my-countdown').innerText()) < 0);
      await screenshots(binh, 'delegate-live-5-over-time');

      // A document only Bình may see: her tablet opens it; the others say so and stay.
      await chair.call('PUT', `${live}/follow`, { document_id: secretDoc.id, page: 1 });
      await binh.waitForURL(`${box.origin}/read/${meeting.id}/${secretDoc.id}`);
      for (const p of [cuong, dung]) {
        await waitForText(p.getByTestId('follow-hidden'), 'Chủ tọa đang trình chiếu một tài liệu bạn không có quyền xem.');
        assert.equal(p.url(), readerUrl);
      }

      // The chair shows page 5 of the PDF: a new follow for those who could not see the last one.
      await chair.call('PUT', `${live}/follow`, { document_id: pdfDoc.id, page: 5 });
      await binh.waitForURL(readerUrl);
      for (const p of [binh, cuong, dung]) await waitForText(p.getByTestId('reader-page'), /^Trang 5\/6/);

      // Dung goes back to the meeting page: that leaves the chair's document, and one tap on the
      // meeting page brings her back to it.
      await dung.getByTestId('reader-back').click();
      await dung.waitForURL(meetingUrl);
      await waitForText(dung.getByTestId('follow-return'), 'Theo chủ tọa (trang 5)');
      await waitForText(dung.getByTestId('live-speaker-name'), 'Trần Thị Bình');
      await waitForQueue(dung, ['Lê Văn Cường']);
      assert.equal(await dung.getByTestId('live-ask').isDisabled(), false);
      await dung.getByTestId('follow-return').click();
      await dung.waitForURL(readerUrl);
      await waitForText(dung.getByTestId('reader-page'), /^Trang 5\/6/);
      await waitForText(dung.getByTestId('follow-on'), 'Đang theo chủ tọa · trang 5');

      // The chair stops: the bar goes, everyone stays where they are.
      await chair.call('DELETE', `${live}/follow`);
      await dung.getByTestId('follow-bar').waitFor({ state: 'detached' });
      assert.equal(dung.url(), readerUrl);

      // A recess with its reason ends Bình's speech; then the meeting resumes and closes.
      await dung.getByTestId('reader-back').click();
      await dung.waitForURL(meetingUrl);
      await chair.call('POST', `${live}/pause`, { reason: 'Nghỉ giải lao 15 phút' });
      await waitForText(dung.getByTestId('live-phase'), 'Nghỉ giải lao · Nghỉ giải lao 15 phút');
      assert.equal(await dung.getByTestId('live-speaker').count(), 0);
      await chair.call('POST', `${live}/resume`, {});
      await waitForText(dung.getByTestId('live-phase'), 'Đang họp');
      await chair.call('POST', `${live}/end`, {});
      await waitForText(dung.getByTestId('live-phase'), 'Đã bế mạc');
      assert.equal(await dung.getByTestId('live-ask').count(), 0);
      assert.equal(await dung.getByTestId('live-queue-row').count(), 0);
    });
  });
});
