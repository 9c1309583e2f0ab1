// Issue 12, "meetings prepared at the office flow down to the room", in a real Chromium: the
// office's secretary prepares a meeting on the hub, opens "Giao cho phòng họp", chooses the
// enrolled room's box and hands the meeting over; the row then names the room and the time,
// and "Phòng đã nhận" once the box has pulled and adopted it; the meeting's page at the office
// is read-only with the reason, and the hub refuses an edit in Vietnamese.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { addStaff, apiAs, BIN, Box, draftMeeting, launchChromium, newTablet, REPO, screenshots, uploadPdf, waitForText } from './helpers.mjs';

const HUB_ROOM = 'Trung tâm tỉnh (thử nghiệm)';
const ROOM = 'Phòng họp UBND xã Tân Phú';
const SECRETARY = { username: 'thuky', name: 'Trần Thị Thu', role: 'secretary', password: 'thu-ky-mat-khau-1' };

async function signIn(page, url, { username, password }) {
  await page.goto(url);
  await page.waitForURL(/\/staff\/sign-in\?next=/);
  await page.getByLabel('Tên đăng nhập').fill(username);
  await page.getByLabel('Mật khẩu', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Đăng nhập' }).click();
  await page.waitForURL((u) => u.pathname === new URL(url).pathname);
}

describe('central office: a meeting prepared at the office is handed to its room', () => {
  /** @type {Box} */
  let hub;
  /** @type {Box} */
  let box;
  let chrome;

  before(async () => {
    hub = await Box.create({ room: HUB_ROOM, hub: true });
    await addStaff(hub, [SECRETARY]);
    box = await Box.create({ room: ROOM, start: false });
    const admin = await apiAs(hub, { username: 'admin', password: hub.adminPassword });
    const { token } = await admin.call('POST', '/api/hub/enrolments', { room: ROOM });
    execFileSync(BIN, ['enroll', '--data', box.dataDir, hub.origin, token], { stdio: 'pipe', timeout: 60_000 });
    await box.start();
    await addStaff(box, [SECRETARY]);
    chrome = await launchChromium([hub.caPem, box.caPem]);
  });

  after(async () => {
    await chrome?.close();
    await box?.destroy();
    await hub?.destroy();
  });

  test('the secretary hands the meeting to the room; the office changes it no more', { timeout: 180_000 }, async () => {
    const desk = await apiAs(hub, SECRETARY);
    const { meeting } = await draftMeeting(desk, {
      people: [['an', 'Lê Văn An'], ['binh', 'Trần Thị Bình']],
      startsInMinutes: 3 * 24 * 60,
      title: 'Họp UBND xã chuẩn bị tại trung tâm',
    });
    const item = await desk.call('POST', `/api/meetings/${meeting.id}/items`, { title: 'Dự toán ngân sách 2027' });
    const pdf = fs.readFileSync(path.join(REPO, 'tests', 'fixtures', 'to-trinh-du-toan.pdf'));
    await uploadPdf(hub, desk.cookie, `/api/meetings/${meeting.id}/items/${item.id}/documents?title=${encodeURIComponent('Tờ trình')}`, pdf);

    const ctx = await newTablet(chrome.browser);
    try {
      const errors = [];
      const page = await ctx.newPage();
      page.on('pageerror', (e) => errors.push(String(e)));
      await signIn(page, `${hub.origin}/staff/hub/meetings`, SECRETARY);
      await waitForText(page.getByRole('heading', { level: 1 }), 'Cuộc họp chuẩn bị tại trung tâm');
      await page.getByTestId('staff-tabs').getByRole('link', { name: 'Giao cho phòng họp' }).waitFor();
      // The office's secretary has no room to seat or project in: those tabs are a box's.
      assert.deepEqual(
        await page.getByTestId('staff-tabs').getByRole('link').allInnerTexts(),
        ['Tổng quan', 'Người tham dự', 'Cơ quan', 'Cuộc họp', 'Giao cho phòng họp', 'Lưu trữ'],
      );
      const row = page.getByTestId('office-meeting').filter({ hasText: 'Họp UBND xã chuẩn bị tại trung tâm' });
      await waitForText(row, /1 nội dung, 1 tài liệu/);
      await waitForText(row, /Bản nháp/);

      await row.getByTestId('handover-give').click();
      const form = row.getByTestId('handover-form');
      await form.getByText('Sau khi giao, trung tâm không sửa được cuộc họp này nữa.').waitFor();
      // No room chosen: said in words, nothing sent.
      await form.getByTestId('handover-box').selectOption('');
      await form.getByTestId('handover-confirm').click();
      await waitForText(form.getByRole('alert'), 'Hãy chọn phòng họp.');
      await form.getByTestId('handover-box').selectOption({ label: ROOM });
      await screenshots(page, 'handover-1-choose-room');
      await form.getByTestId('handover-confirm').click();
      await waitForText(page.getByTestId('handover-notice'), `Đã giao “Họp UBND xã chuẩn bị tại trung tâm” cho ${ROOM}.`);
      await waitForText(row.getByTestId('handover-given'), new RegExp(`^Đã giao cho ${ROOM} lúc `));
      assert.equal(await row.getByTestId('handover-give').count(), 0, 'no second handover');
      await screenshots(page, 'handover-2-given');
      // The room's box takes it at its next sync ("Đồng bộ ngay" instead of its minute's wait),
      // and its log, sent up, tells the office: "Phòng đã nhận".
      const boxAdmin = await apiAs(box, { username: 'admin', password: box.adminPassword });
      await boxAdmin.call('POST', '/api/sync/now');
      await waitForText(row.getByTestId('handover-received'), '✓ Phòng đã nhận', { timeout: 60_000 });
      await screenshots(page, 'handover-3-received');

      // The meeting's page at the office: read-only, saying why.
      await page.goto(`${hub.origin}/desk/meetings/${meeting.id}/prepare`);
      await waitForText(page.getByTestId('prep-handed-over'), new RegExp(`^Cuộc họp đã giao cho ${ROOM} lúc .*; mọi thay đổi làm tại phòng họp\\.`));
      await page.getByText('Dự toán ngân sách 2027').first().waitFor();
      assert.equal(await page.getByTestId('agenda-add').count(), 0, 'no "add an item" at the office');

      // And the hub refuses an edit, in Vietnamese.
      const r = await hub.request('PUT', `/api/meetings/${meeting.id}`, {
        json: { title: 'Đổi tên' },
        headers: { Cookie: desk.cookie, Origin: hub.origin },
      });
      assert.equal(r.status, 409);
      assert.equal(r.json.code, 'meeting.handed_over');
      assert.equal(r.json.message, 'Cuộc họp đã giao cho phòng họp; mọi thay đổi làm tại phòng họp.');

      // In the room: the room's secretary has the meeting on the ordinary desk, says where it
      // came from, and may carry on preparing it.
      const boxCtx = await newTablet(chrome.browser);
      try {
        const boxPage = await boxCtx.newPage();
        boxPage.on('pageerror', (e) => errors.push(String(e)));
        await signIn(boxPage, `${box.origin}/desk/meetings/${meeting.id}/prepare`, SECRETARY);
        await waitForText(boxPage.getByTestId('prep-from-hub'), 'Cuộc họp do trung tâm chuẩn bị và giao cho phòng này; từ nay phòng họp làm tiếp như cuộc họp của mình.');
        await boxPage.getByText('Dự toán ngân sách 2027').first().waitFor();
        await boxPage.getByTestId('agenda-add').waitFor();
        await screenshots(boxPage, 'handover-4-in-the-room');
      } finally {
        await boxCtx.close();
      }
      assert.deepEqual(errors, []);
    } finally {
      await ctx.close();
    }
  });
});
