// The central office in a real Chromium (issue 12): a real hub and a real room box. IT staff
// issue a token on the hub's "Đăng ký hộp mới", the box is enrolled with the exact command the
// page shows, the box's "Đồng bộ với trung tâm" reaches "Đã đồng bộ" after "Đồng bộ ngay", the
// hub's "Các hộp phòng họp" lists the box with its contact, and revoking it there turns the
// box's page to the refused state; with the hub down, the box says it will retry.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { addStaff, apiAs, BIN, Box, launchChromium, newTablet, screenshots, skewClock, waitForText, waitForCount } from './helpers.mjs';

const HUB_ROOM = 'Trung tâm tỉnh (thử nghiệm)';
const ROOM = 'Phòng họp UBND xã Tân Phú';

async function signIn(page, url, password) {
  await page.goto(url);
  await page.waitForURL(/\/staff\/sign-in\?next=/);
  await page.getByLabel('Tên đăng nhập').fill('admin');
  await page.getByLabel('Mật khẩu', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Đăng nhập' }).click();
  await page.waitForURL((u) => u.pathname === new URL(url).pathname);
}

describe('central office: enrol, sync, revoke', () => {
  /** @type {Box} */
  let hub;
  /** @type {Box} */
  let box;
  let chrome;

  before(async () => {
    hub = await Box.create({ room: HUB_ROOM, hub: true });
    // The demo: a published meeting with three agenda items, their PDFs and a motion on each.
    box = await Box.create({ room: ROOM, start: false });
    await box.start({ args: ['--demo'] });
    // A computer of the office's IT staff that trusts both the hub and the box.
    chrome = await launchChromium([hub.caPem, box.caPem]);
  });

  after(async () => {
    await chrome?.close();
    await box?.destroy();
    await hub?.destroy();
  });

  test('a token issued on the hub enrols the box; the box syncs; revoking it on the hub refuses it', { timeout: 180_000 }, async () => {
    const logs = () => `\n--- hub log ---\n${hub.logTail()}\n--- box log ---\n${box.logTail()}`;
    const hubCtx = await newTablet(chrome.browser);
    // The box and the hub are both "localhost": their session cookies must not meet.
    const boxCtx = await newTablet(chrome.browser);
    try {
      const errors = [];
      const boxPage = await boxCtx.newPage();
      boxPage.on('pageerror', (e) => errors.push(String(e)));
      const hubPage = await hubCtx.newPage();
      hubPage.on('pageerror', (e) => errors.push(String(e)));

      // A box never enrolled: its page says so and shows the command, in Vietnamese.
      await signIn(boxPage, `${box.origin}/staff/sync`, box.adminPassword);
      await waitForText(boxPage.getByRole('heading', { level: 1 }), 'Đồng bộ với trung tâm');
      await waitForText(boxPage.getByTestId('sync-not-enrolled').getByRole('heading'), 'Hộp này chưa đăng ký với trung tâm');
      const steps = boxPage.getByTestId('sync-enrol-steps');
      assert.match(await steps.innerText(), /sudo phonghop enroll --data \/var\/lib\/phonghop https:\/\/<địa-chỉ-trung-tâm> PH1-…/);
      assert.equal(await boxPage.getByTestId('sync-now').count(), 0, 'no "Đồng bộ ngay" before enrolment');
      await boxPage.getByRole('link', { name: 'Đồng bộ' }).waitFor();
      await screenshots(boxPage, 'hub-1-box-not-enrolled');

      // On the hub: the IT admin's tabs are the office's, not a room box's.
      await signIn(hubPage, `${hub.origin}/staff/hub/enrol`, hub.adminPassword);
      await waitForText(hubPage.getByRole('heading', { level: 1 }), 'Đăng ký hộp mới');
      const tabs = hubPage.getByTestId('staff-tabs').getByRole('link');
      await hubPage.getByTestId('staff-tabs').getByRole('link', { name: 'Các hộp phòng họp' }).waitFor();
      assert.deepEqual(await tabs.allInnerTexts(), ['Tổng quan', 'Người tham dự', 'Cơ quan', 'Các hộp phòng họp', 'Đăng ký hộp mới', 'Giao cho phòng họp', 'Lưu trữ', 'Tài khoản']);

      // An empty room name is refused in words; then a token, shown once with its command.
      await hubPage.getByTestId('enrol-submit').click();
      await waitForText(hubPage.getByRole('alert'), 'Hãy nhập tên phòng họp.');
      await hubPage.getByLabel('Tên phòng họp').fill(ROOM);
      await hubPage.getByTestId('enrol-submit').click();
      const token = await waitForText(hubPage.getByTestId('enrol-token'), /^PH1-/);
      await waitForText(hubPage.getByTestId('enrol-issued').getByRole('heading'), `Mã đăng ký cho "${ROOM}"`);
      assert.match(await hubPage.getByTestId('enrol-issued').innerText(), /chỉ hiện MỘT LẦN/);
      const command = (await hubPage.getByTestId('enrol-command').innerText()).trim();
      assert.equal(command, `sudo phonghop enroll --data /var/lib/phonghop ${hub.origin} ${token}`);
      await hubCtx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: hub.origin });
      await hubPage.getByTestId('copy-command').click();
      await waitForText(hubPage.getByTestId('copy-command'), '✓ Đã chép');
      assert.equal(await hubPage.evaluate(() => navigator.clipboard.readText()), command);
      const waiting = hubPage.getByTestId('enrolment').filter({ hasText: ROOM });
      await waitForText(waiting.getByTestId('enrolment-state'), 'Đang chờ hộp dùng');
      await screenshots(hubPage, 'hub-2-token-issued');
      // Closed, the token is gone from the page for good.
      await hubPage.getByTestId('enrol-close').click();
      await hubPage.getByTestId('enrol-form').waitFor();
      assert.ok(!(await hubPage.content()).includes(token), 'the token is not shown again');

      // On the box, stopped: the command as the page gave it (only the data dir is this test's).
      await box.stop();
      const [, , sub, , , url, tok] = command.split(' ');
      assert.equal(sub, 'enroll');
      try {
        execFileSync(BIN, ['enroll', '--data', box.dataDir, url, tok], { stdio: 'pipe', timeout: 60_000 });
      } catch (e) {
        throw new Error(`phonghop enroll failed: ${e.message}\n${e.stderr ?? ''}${e.stdout ?? ''}${logs()}`);
      }
      await box.start();

      // The secretary records attendance and a hand count on the box: all of it goes to the archive.
      const desk = await apiAs(box, { username: 'thuky', password: 'thuky-demo' });
      const [meeting] = (await desk.call('GET', '/api/meetings')).meetings;
      const people = (await desk.call('GET', '/api/people')).people;
      const nameOf = (id) => people.find((p) => p.id === id).name;
      const [present, excused] = meeting.members;
      await desk.call('PUT', `/api/meetings/${meeting.id}/attendance/${present}`, { status: 'present' });
      await desk.call('PUT', `/api/meetings/${meeting.id}/attendance/${excused}`, { status: 'excused', reason: 'Đi công tác huyện' });
      const [motion] = (await desk.call('GET', `/api/meetings/${meeting.id}/questions`)).questions;
      const members = meeting.members.length;
      await desk.call('POST', `/api/meetings/${meeting.id}/questions/${motion.question.question.id}/manual`, {
        counts: { approve: members - 1, disapprove: 1, abstain: 0 },
        present: members,
        reason: 'Mất điện, kiểm phiếu giơ tay',
      });

      // The box's page: enrolled; "Đồng bộ ngay" brings it to "Đã đồng bộ" with nothing waiting.
      await boxPage.goto(`${box.origin}/staff/sync`);
      const syncNow = boxPage.getByTestId('sync-now');
      await syncNow.waitFor();
      await syncNow.click();
      await waitForText(boxPage.getByTestId('sync-notice'), 'Đã yêu cầu đồng bộ. Trạng thái sẽ cập nhật sau vài giây.');
      await waitForText(boxPage.getByTestId('sync-state'), 'Đã đồng bộ', { timeout: 30_000 }).catch((e) => {
        throw new Error(`${e.message}${logs()}`);
      });
      await waitForText(boxPage.getByTestId('sync-backlog'), '0');
      await waitForText(boxPage.getByTestId('sync-last-success'), /^(vừa xong|\d+ giây trước) \(/);
      assert.equal(await boxPage.getByTestId('sync-last-error').count(), 0);
      await screenshots(boxPage, 'hub-3-box-synced');
      // The language switch: the same page in English.
      await boxPage.getByRole('button', { name: 'English' }).click();
      await waitForText(boxPage.getByTestId('sync-state'), 'Synced');
      await boxPage.getByRole('button', { name: 'Tiếng Việt' }).click();
      await waitForText(boxPage.getByTestId('sync-state'), 'Đã đồng bộ');

      // The hub lists the box: its room, a fresh contact (no alarm), its version, all its events held.
      const { json: boxRoom } = await box.request('GET', '/api/room');
      await hubPage.getByRole('link', { name: 'Các hộp phòng họp' }).click();
      await hubPage.waitForURL((u) => u.pathname === '/staff/hub');
      const row = hubPage.locator(`[data-testid="hub-box"][data-node="${boxRoom.node_id}"]`);
      await row.waitFor();
      assert.match(await row.locator('td.name').innerText(), new RegExp(ROOM));
      const contact = row.getByTestId('hub-box-contact');
      await waitForText(contact, /^(vừa xong|\d+ giây trước)/);
      assert.equal(await contact.getAttribute('data-stale'), 'false');
      await waitForText(row.getByTestId('hub-box-version'), boxRoom.version);
      await waitForText(row.getByTestId('hub-box-events'), new RegExp(`^${boxRoom.head_seq} / 0(\\s|$)`), { timeout: 15_000 });
      // The box holds the hub's whole log: nothing waits to go down.
      await waitForText(row.getByTestId('hub-box-down'), 'Hộp còn chờ nhận từ trung tâm: 0', { timeout: 15_000 });
      await waitForText(row.getByTestId('hub-box-status'), 'Đang hoạt động');
      await screenshots(hubPage, 'hub-4-boxes');

      // A computer whose clock is two days ahead still sees a fresh contact: times are the hub's.
      const skewedCtx = await newTablet(chrome.browser);
      try {
        await skewClock(skewedCtx, 2 * 24 * 3600 * 1000);
        const skewed = await skewedCtx.newPage();
        await signIn(skewed, `${hub.origin}/staff/hub`, hub.adminPassword);
        const c = skewed.locator(`[data-testid="hub-box"][data-node="${boxRoom.node_id}"]`).getByTestId('hub-box-contact');
        await waitForText(c, /^(vừa xong|\d+ giây trước)/);
        assert.equal(await c.getAttribute('data-stale'), 'false');
        // The hub has no sync of its own to show.
        await skewed.goto(`${hub.origin}/staff/sync`);
        await waitForText(skewed.getByTestId('sync-on-hub'), /^Máy này là trung tâm/);
      } finally {
        await skewedCtx.close();
      }

      // The token is now "used by" that box.
      await hubPage.getByRole('link', { name: 'Đăng ký hộp mới' }).click();
      const used = hubPage.getByTestId('enrolment').filter({ hasText: ROOM });
      await waitForText(used.getByTestId('enrolment-state'), new RegExp(`^Đã dùng bởi hộp ${boxRoom.node_id.slice(0, 8)}.*\\(${ROOM}\\)$`));

      // The archive ("Lưu trữ"): the box, its meeting, the agenda with documents that open,
      // attendance and the signed result, as the box recorded them.
      await hubPage.getByTestId('staff-tabs').getByRole('link', { name: 'Lưu trữ' }).click();
      await waitForText(hubPage.getByRole('heading', { level: 1 }), 'Lưu trữ các phòng họp');
      await hubPage.locator(`[data-testid="archive-box"][data-node="${boxRoom.node_id}"]`).click();
      await waitForText(hubPage.getByRole('heading', { level: 1 }), `Lưu trữ: ${ROOM}`);
      const listed = hubPage.getByTestId('archive-meeting');
      await waitForText(listed.first().locator('td.name'), meeting.title);
      assert.match(await listed.first().innerText(), /Đã phát hành/);
      assert.match(await listed.first().innerText(), /3 \/ 3 \/ 1$/);
      await listed.first().getByRole('link', { name: meeting.title }).click();
      await waitForText(hubPage.getByRole('heading', { level: 1 }), meeting.title);
      const items = hubPage.getByTestId('archive-item');
      await waitForCount(items, 3);
      const doc = items.first().getByTestId('archive-document');
      assert.match(await doc.innerText(), /Giấy mời họp — 35\/GM-UBND/);
      const href = await doc.getByTestId('archive-open').getAttribute('href');
      const file = await hubPage.evaluate(async (u) => {
        const r = await fetch(u);
        const b = new Uint8Array(await r.arrayBuffer());
        return { status: r.status, type: r.headers.get('content-type'), head: String.fromCharCode(...b.slice(0, 5)) };
      }, href);
      assert.deepEqual(file, { status: 200, type: 'application/pdf', head: '%PDF-' });
      const att = hubPage.getByTestId('archive-attendee');
      await waitForText(att.filter({ hasText: nameOf(present) }).getByTestId('archive-att-status'), /^✓\s*Có mặt$/);
      assert.match(await att.filter({ hasText: nameOf(excused) }).innerText(), /Vắng có phép.*Đi công tác huyện/s);
      const result = hubPage.getByTestId('archive-result').filter({ hasText: motion.question.question.title });
      await waitForText(result.getByTestId('archive-outcome'), 'ĐƯỢC THÔNG QUA');
      await waitForText(result.getByTestId('archive-counts'), `Tán thành: ${members - 1} · Không tán thành: 1 · Không biểu quyết: 0`);
      assert.match(await result.innerText(), /Kiểm phiếu thủ công: Mất điện, kiểm phiếu giơ tay/);
      await screenshots(hubPage, 'hub-4b-archive-meeting');

      // Revoking asks first and wants a reason.
      await hubPage.getByRole('link', { name: 'Các hộp phòng họp' }).click();
      await row.getByTestId('revoke').click();
      await waitForText(row.getByTestId('revoke-form').locator('.question'), `Thu hồi hộp "${ROOM}"? Hộp sẽ ngừng đồng bộ ngay. Muốn dùng lại phải đăng ký lại bằng mã mới.`);
      await row.getByTestId('revoke-yes').click();
      await waitForText(row.getByRole('alert'), 'Hãy ghi lý do thu hồi.');
      await row.getByLabel('Lý do thu hồi').fill('Hộp bị mất');
      await row.getByTestId('revoke-yes').click();
      await waitForText(hubPage.getByTestId('hub-notice'), `Đã thu hồi hộp "${ROOM}".`);
      await waitForText(row.getByTestId('hub-box-status'), /^Đã thu hồi .*\nLý do: Hộp bị mất$/);
      assert.equal(await row.getByTestId('revoke').count(), 0);
      await screenshots(hubPage, 'hub-5-revoked');

      // The box, told to sync, is refused and says what to do.
      await syncNow.click();
      await waitForText(boxPage.getByTestId('sync-state'), 'Trung tâm đã từ chối hộp này (bị thu hồi?)', { timeout: 30_000 }).catch((e) => {
        throw new Error(`${e.message}${logs()}`);
      });
      assert.match(await boxPage.getByTestId('sync-advice').innerText(), /đã thu hồi nó trên trang "Các hộp phòng họp"/);
      await waitForText(boxPage.getByTestId('sync-error-plain'), 'Trung tâm đã thu hồi hộp này.');
      await boxPage.getByTestId('sync-enrol-steps').waitFor();
      await screenshots(boxPage, 'hub-6-box-refused');
      // The IT admin's desk on the box says so too, where it is seen first.
      await boxPage.getByRole('link', { name: 'Tổng quan' }).click();
      await waitForText(boxPage.getByTestId('desk-sync-stopped').locator('strong'), 'Đồng bộ với trung tâm đã dừng: Trung tâm đã từ chối hộp này (bị thu hồi?)');
      await boxPage.getByTestId('desk-sync-stopped').getByRole('link', { name: 'Mở trang Đồng bộ' }).click();
      await boxPage.waitForURL((u) => u.pathname === '/staff/sync');

      // The hub unreachable: the box says it lost the link and when it tries again.
      await hub.stop();
      await syncNow.click();
      await waitForText(boxPage.getByTestId('sync-state'), /^Mất kết nối, sẽ thử lại lúc \d\d:\d\d$/, { timeout: 30_000 });
      await waitForText(boxPage.getByTestId('sync-next'), /^(sau|vừa xong).*\(\d\d:\d\d, /);
      assert.match(await boxPage.getByTestId('sync-advice').innerText(), /Hộp sẽ tự thử lại/);
      await waitForText(boxPage.getByTestId('sync-error-plain'), 'Không kết nối được tới trung tâm: máy trung tâm đang tắt, hoặc mạng chặn cổng đồng bộ.');
      await screenshots(boxPage, 'hub-7-box-backoff');

      // The office's secretary reads the archive too, a revoked box's included, by its link;
      // the list of boxes stays with IT staff.
      await addStaff(hub, [{ username: 'vanthu', name: 'Phạm Thị Lan', role: 'secretary', password: 'vanthu-trung-tam' }]);
      const secCtx = await newTablet(chrome.browser);
      try {
        const sec = await secCtx.newPage();
        sec.on('pageerror', (e) => errors.push(String(e)));
        await sec.goto(`${hub.origin}/staff/archive`);
        await sec.waitForURL(/\/staff\/sign-in\?next=/);
        await sec.getByLabel('Tên đăng nhập').fill('vanthu');
        await sec.getByLabel('Mật khẩu', { exact: true }).fill('vanthu-trung-tam');
        await sec.getByRole('button', { name: 'Đăng nhập' }).click();
        await waitForText(sec.getByTestId('archive-it-only'), /^Danh sách hộp do cán bộ CNTT quản lý/);
        await sec.goto(`${hub.origin}/staff/archive/${boxRoom.node_id}/meetings/${meeting.id}`);
        await waitForText(sec.getByRole('heading', { level: 1 }), meeting.title);
        await waitForText(sec.getByTestId('archive-result').first().getByTestId('archive-outcome'), 'ĐƯỢC THÔNG QUA');
      } finally {
        await secCtx.close();
      }

      assert.deepEqual(errors, []);
    } finally {
      await hubCtx.close();
      await boxCtx.close();
    }
  });
});
