// The secretary's desk and the chair's console in a real Chromium that trusts the box's CA,
// against the real box: sign-in, import, bodies, meetings (and their "Chuẩn bị" link), pairing
// codes, attendance, seating; the IT admin offered only their part of the desk.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BIN, Box, REPO, launchChromium, newTablet, screenshots, waitForText, withBoxLog, waitForCount } from './helpers.mjs';

const ROOM = 'Phòng họp UBND xã Tân Phú';
const SECRETARY = { username: 'thuky', name: 'Trần Thị Thu', password: 'thuky-demo-2026' };
const XLSX = path.join(REPO, 'tests', 'fixtures', 'thanh-vien-30.xlsx');


/** A staff account needs the store to itself: stop the box, add the account, start it again. */
async function addSecretary(box) {
  await box.stop();
  execFileSync(
    BIN,
    ['admin', 'create', '--data', box.dataDir, '--username', SECRETARY.username, '--name', SECRETARY.name, '--role', 'secretary', '--password', SECRETARY.password],
    { stdio: 'pipe', timeout: 60_000 },
  );
  await box.start();
}

/** The secretary's API session from Node, for setting up a test without clicking. */
async function secretaryApi(box) {
  const res = await box.request('POST', '/api/session', {
    json: { username: SECRETARY.username, password: SECRETARY.password },
    headers: { Origin: box.origin },
  });
  assert.equal(res.status, 200, `sign-in: ${res.text}`);
  const cookie = [].concat(res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).find((c) => c.startsWith('phonghop_session='));
  assert.ok(cookie, 'no session cookie');
  return async (method, pathname, json) => {
    const r = await box.request(method, pathname, { json, headers: { Cookie: cookie, Origin: box.origin } });
    assert.ok(r.status >= 200 && r.status < 300, `${method} ${pathname} → ${r.status} ${r.text}`);
    return r.json;
  };
}

/** Signs in through the sign-in screen, landing back on `next`. */
async function signIn(page, box, next) {
  await page.goto(`${box.origin}${next}`);
  await page.waitForURL(/\/staff\/sign-in\?next=/);
  await page.getByLabel('Tên đăng nhập').fill(SECRETARY.username);
  await page.getByLabel('Mật khẩu').fill(SECRETARY.password);
  await page.getByRole('button', { name: 'Đăng nhập' }).click();
  await page.waitForURL((u) => u.pathname === next);
  await waitForText(page.getByTestId('signed-in-as'), new RegExp(SECRETARY.name));
}

/** Collects uncaught errors in the page (network refusals the test provokes are not errors). */
function watchErrors(page) {
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  return errors;
}

describe('secretary desk and chair console', () => {
  /** @type {Box} */
  let box;
  let chrome;

  before(async () => {
    box = await Box.create({ room: ROOM });
    await addSecretary(box);
    chrome = await launchChromium(box.caPem);
  });

  after(async () => {
    await chrome?.close();
    await box?.destroy();
  });

  test('sign-in refuses a wrong password and says so in Vietnamese', { timeout: 60_000 }, () =>
    withBoxLog(box, async () => {
      const context = await newTablet(chrome.browser);
      try {
        const page = await context.newPage();
        await page.goto(`${box.origin}/desk`);
        await page.waitForURL(/\/staff\/sign-in\?next=%2Fdesk$/);
        await page.getByLabel('Tên đăng nhập').fill(SECRETARY.username);
        await page.getByLabel('Mật khẩu').fill('sai-mat-khau');
        await page.getByRole('button', { name: 'Đăng nhập' }).click();
        await waitForText(page.getByTestId('signin-error'), 'Tên đăng nhập hoặc mật khẩu không đúng.');
        await screenshots(page, 'staff-1-signin-error');
        await page.getByLabel('Mật khẩu').fill(SECRETARY.password);
        await page.getByRole('button', { name: 'Đăng nhập' }).click();
        await page.waitForURL((u) => u.pathname === '/desk');
        await waitForText(page.getByTestId('signed-in-as'), new RegExp(SECRETARY.name));
        await page.getByRole('button', { name: 'Đăng xuất' }).click();
        await page.waitForURL(/\/staff\/sign-in/);
      } finally {
        await context.close();
      }
    }));

  test('imports 30 people from Excel, makes a body and a meeting, pairs a tablet, keeps attendance', { timeout: 180_000 }, () =>
    withBoxLog(box, async () => {
      const context = await newTablet(chrome.browser);
      try {
        const page = await context.newPage();
        const errors = watchErrors(page);
        await signIn(page, box, '/desk/people');

        // Import: preview first, 30 valid rows, then store them.
        await page.getByTestId('open-import').click();
        await page.getByTestId('import-file').setInputFiles(XLSX);
        await waitForText(page.getByTestId('import-valid'), '✓ 30 dòng hợp lệ', { timeout: 20_000 });
        await waitForText(page.getByTestId('import-invalid'), '✕ 0 dòng lỗi');
        await waitForCount(page.getByTestId('import-preview').locator('tbody tr'), 30);
        await screenshots(page, 'staff-2-import-preview');
        const confirm = page.getByTestId('import-confirm');
        assert.equal(await confirm.innerText(), 'Nhập 30 người');
        await confirm.click();
        await waitForText(page.getByTestId('import-result'), /^Đã nhập 30 người, bỏ qua 0 dòng\./);
        await waitForText(page.getByTestId('people-count'), '30 người');
        await waitForCount(page.getByTestId('people-table').locator('tbody tr'), 30);

        // A body with all of them as members.
        await page.getByRole('link', { name: 'Cơ quan', exact: true }).click();
        await page.getByRole('button', { name: 'Tạo cơ quan', exact: true }).click();
        await page.getByLabel('Tên cơ quan').fill('UBND xã Tân Phú');
        await page.getByLabel('Loại').selectOption('ubnd');
        await page.getByRole('button', { name: 'Tạo', exact: true }).click();
        await page.getByRole('link', { name: 'Chọn thành viên ngay' }).click();
        await page.getByRole('button', { name: 'Chọn tất cả', exact: true }).click();
        await waitForText(page.getByTestId('members-count'), 'Đã chọn 30/30');
        await page.getByTestId('save-members').click();
        await waitForText(page.getByRole('status').filter({ hasText: 'Đã lưu' }), 'Đã lưu: 30 thành viên.');

        // A meeting of that body.
        await page.getByRole('link', { name: 'Cuộc họp', exact: true }).click();
        await page.getByRole('button', { name: 'Tạo cuộc họp' }).click();
        await page.getByLabel('Tên cuộc họp').fill('Họp UBND xã thường kỳ tháng 11');
        await page.getByLabel('Thời gian bắt đầu').fill('2026-11-28T08:00');
        await page.getByLabel('Chủ trì').selectOption({ index: 1 });
        await page.getByRole('button', { name: 'Tạo cuộc họp' }).last().click();
        await waitForText(page.getByTestId('meeting-created'), /Đã tạo cuộc họp “Họp UBND xã thường kỳ tháng 11”/);
        await waitForText(page.getByTestId('meetings-list'), /08:00, 28\/11\/2026/);

        // "Chuẩn bị" on the list opens the meeting's preparation: agenda, documents, review.
        const listed = page.getByTestId('meetings-list').locator('li', { hasText: 'Họp UBND xã thường kỳ tháng 11' });
        await listed.getByRole('link', { name: 'Chuẩn bị', exact: true }).click();
        await page.waitForURL(/\/desk\/meetings\/[0-9a-f]{32}\/prepare$/);
        await waitForText(page.getByTestId('details-shown-title'), 'Họp UBND xã thường kỳ tháng 11');
        await waitForText(page.getByTestId('meeting-status'), /Bản nháp/);
        await page.getByTestId('agenda-add').waitFor();

        // A pairing code for one person, shown large with its QR code and countdown.
        await page.getByRole('link', { name: 'Người tham dự', exact: true }).click();
        await page.getByTestId('people-table').getByRole('link', { name: 'Cấp mã ghép nối' }).first().click();
        await page.getByTestId('issue-code').click();
        const code = await waitForText(page.getByTestId('pairing-code'), /^\d{3} \d{3}$/);
        const fontPx = await page.getByTestId('pairing-code').evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
        assert.ok(fontPx >= 64, `the code is shown large: ${fontPx}px`);
        await page.getByTestId('qr-code').waitFor();
        await waitForText(page.getByTestId('pairing-countdown'), /Còn hiệu lực (10:00|9:\d\d)/);
        await screenshots(page, 'staff-3-pairing-code');
        assert.match(code, /^\d{3} \d{3}$/);

        // Attendance: one tap per row; the quorum follows.
        await page.getByRole('link', { name: 'Cuộc họp', exact: true }).click();
        await page.getByTestId('meetings-list').getByRole('link', { name: 'Điểm danh' }).first().click();
        await waitForText(page.getByTestId('quorum-present'), '0/30');
        await waitForText(page.getByTestId('quorum-verdict'), /CHƯA ĐỦ/);
        const rows = page.getByTestId('attendance-rows').locator('li.row');
        await waitForCount(rows, 30);
        const first = rows.nth(0);
        await first.locator('[data-set="present"]').click();
        await waitForText(page.getByTestId('quorum-present'), '1/30');
        await first.locator('[data-set="excused"]').click();
        await waitForText(first.getByTestId('row-status'), /Vắng có phép$/);
        await waitForText(page.getByTestId('quorum-present'), '0/30');
        await waitForText(page.getByTestId('count-excused'), /Vắng có phép:\s*1$/);
        await screenshots(page, 'staff-4-attendance');
        assert.deepEqual(errors, [], 'errors in the page');
      } finally {
        await context.close();
      }
    }));

  test('the chair console follows the desk live; seating plan, seat assignment, print and CSV', { timeout: 180_000 }, () =>
    withBoxLog(box, async () => {
      // Set up through the API (people added one by one, not imported), so this test does not
      // depend on the one above.
      const api = await secretaryApi(box);
      const names = ['Nguyễn Văn An', 'Trần Thị Bình', 'Lê Văn Cường', 'Phạm Thị Dung', 'Hoàng Văn Em', 'Vũ Thị Giang'];
      const ids = [];
      for (const [i, name] of names.entries()) {
        const p = await api('POST', '/api/people', { name, position: 'Ủy viên UBND xã', phone: `09880000${String(i).padStart(2, '0')}` });
        ids.push(p.id);
      }
      const body = await api('POST', '/api/bodies', { name: 'UBND xã Thử Nghiệm', kind: 'ubnd' });
      await api('PUT', `/api/bodies/${body.id}/members`, { members: ids });
      const meeting = await api('POST', '/api/meetings', { body_id: body.id, title: 'Họp thử sơ đồ', starts_at: '2026-11-28T02:00:00Z', chair_id: ids[0] });

      const context = await newTablet(chrome.browser);
      try {
        const desk = await context.newPage();
        const errors = watchErrors(desk);
        await signIn(desk, box, '/desk/seating');

        // The room's layout: 2 rows of 4, then save.
        await desk.getByRole('radio', { name: 'Hàng ghế' }).check();
        await desk.getByLabel('Số hàng').fill('2');
        await desk.getByLabel('Ghế mỗi hàng').fill('4');
        await desk.getByTestId('generate').click();
        const confirmReplace = desk.getByRole('button', { name: 'Thay sơ đồ' });
        if (await confirmReplace.isVisible().catch(() => false)) await confirmReplace.click();
        await waitForCount(desk.locator('[data-seat]'), 8);
        // Drag seat 1 a little with the mouse: it moves, the layout becomes "free".
        const seat = desk.locator('[data-seat="1"]');
        const before = await seat.boundingBox();
        await desk.mouse.move(before.x + before.width / 2, before.y + before.height / 2);
        await desk.mouse.down();
        await desk.mouse.move(before.x + before.width / 2 + 30, before.y + before.height / 2 + 40, { steps: 6 });
        await desk.mouse.up();
        const moved = await seat.boundingBox();
        assert.ok(Math.abs(moved.x - before.x) > 10 && Math.abs(moved.y - before.y) > 10, 'seat 1 was dragged');
        assert.equal(await desk.getByRole('radio', { name: 'Tự do' }).isChecked(), true);
        await desk.getByTestId('save-layout').click();
        await waitForText(desk.getByTestId('layout-message'), 'Đã lưu sơ đồ: 8 ghế.');
        await screenshots(desk, 'staff-5-seating-plan');

        // Seats for the meeting: seat 1 by tapping and choosing, the rest filled in order.
        await desk.goto(`${box.origin}/desk/meetings/${meeting.id}/seats`);
        await desk.locator('[data-seat="1"]').click();
        await desk.locator('dialog[open] .choice', { hasText: names[0] }).click();
        await desk.getByRole('button', { name: /^Xếp lần lượt/ }).click();
        await desk.getByTestId('save-seats').click();
        await waitForText(desk.getByRole('status').filter({ hasText: 'Đã lưu chỗ ngồi' }), 'Đã lưu chỗ ngồi của 6 người.');

        // The chair's console, open beside the desk, follows the desk live.
        const chair = await context.newPage();
        const chairErrors = watchErrors(chair);
        await chair.goto(`${box.origin}/chair/meetings/${meeting.id}`);
        await waitForText(chair.getByTestId('quorum-present'), '0');
        await waitForText(chair.getByTestId('live-status'), /Cập nhật trực tiếp/);
        await chair.evaluate(() => {
          window.__samePage = true;
        });

        await desk.goto(`${box.origin}/desk/meetings/${meeting.id}/attendance`);
        const rows = desk.getByTestId('attendance-rows').locator('li.row');
        for (let i = 0; i < 4; i++) {
          await rows.nth(i).locator('[data-set="present"]').click();
          await waitForText(desk.getByTestId('quorum-present'), `${i + 1}/6`);
        }
        await waitForText(desk.getByTestId('quorum-verdict'), /ĐỦ SỐ LƯỢNG/);
        await rows.nth(4).locator('[data-set="excused"]').click();
        await waitForText(desk.getByTestId('count-excused'), /Vắng có phép:\s*1$/);

        await waitForText(chair.getByTestId('quorum-present'), '4', { timeout: 10_000 });
        await waitForText(chair.getByTestId('quorum-verdict'), /ĐỦ SỐ LƯỢNG/);
        assert.equal(await chair.evaluate(() => window.__samePage), true, 'the chair console must not reload');
        const presentSeat = chair.locator('[data-seat][data-state="present"]');
        await presentSeat.first().waitFor();
        await waitForCount(presentSeat, 4);
        await waitForCount(chair.locator('[data-seat][data-state="excused"]'), 1);
        await screenshots(chair, 'staff-6-chair-console');
        // A tap on a seat shows the name large.
        await chair.locator('[data-seat="1"]').click();
        await waitForText(chair.getByTestId('seat-overlay'), new RegExp(names[0]));
        await chair.keyboard.press('Escape');

        // The attendance list: CSV for Excel, and the print view with the signatures.
        // Fetched from the page: with the page's cookie, through the browser's trust in the CA.
        const csv = await desk.evaluate(async (url) => {
          const r = await fetch(url);
          return { status: r.status, type: r.headers.get('Content-Type'), head: [...new Uint8Array(await r.arrayBuffer()).slice(0, 3)] };
        }, `/api/meetings/${meeting.id}/attendance.csv`);
        assert.equal(csv.status, 200);
        assert.match(csv.type, /text\/csv/);
        assert.deepEqual(csv.head, [0xef, 0xbb, 0xbf], 'CSV starts with a UTF-8 BOM for Excel');
        assert.equal(await desk.getByTestId('export-csv').getAttribute('href'), `/api/meetings/${meeting.id}/attendance.csv`);

        await desk.emulateMedia({ media: 'print' });
        const printed = desk.locator('article.print-only');
        assert.equal(await printed.isVisible(), true, 'the print view shows when printing');
        assert.equal(await desk.getByTestId('attendance-rows').isVisible(), false, 'the desk hides when printing');
        await waitForText(printed.locator('.p-title'), 'DANH SÁCH ĐIỂM DANH');
        await waitForCount(printed.locator('tbody tr'), 6);
        assert.match(await printed.innerText(), /\(Ký, ghi rõ họ tên\)/);
        const pdf = await desk.pdf({ format: 'A4' });
        assert.ok(pdf.length > 10_000, 'a PDF came out');
        await desk.emulateMedia({ media: 'screen' });

        assert.deepEqual([...errors, ...chairErrors], [], 'errors in the pages');
      } finally {
        await context.close();
      }
    }));

  test('the IT admin is offered only their part of the desk; a meetings page by address says no', { timeout: 60_000 }, () =>
    withBoxLog(box, async () => {
      const context = await newTablet(chrome.browser);
      try {
        const page = await context.newPage();
        const errors = watchErrors(page);
        const answers = [];
        page.on('response', (r) => {
          const u = new URL(r.url());
          if (u.pathname.startsWith('/api/')) answers.push(`${r.status()} ${r.request().method()} ${u.pathname}`);
        });
        await page.goto(`${box.origin}/desk`);
        await page.waitForURL(/\/staff\/sign-in\?next=%2Fdesk$/);
        await page.getByLabel('Tên đăng nhập').fill('admin');
        await page.getByLabel('Mật khẩu').fill(box.adminPassword);
        await page.getByRole('button', { name: 'Đăng nhập' }).click();
        await page.waitForURL((u) => u.pathname === '/desk');
        await waitForText(page.getByTestId('signed-in-as'), /Cán bộ CNTT/);

        // The tabs and the desk's tiles offer people and bodies, not meetings or seating.
        const tabs = page.getByTestId('staff-tabs').getByRole('link');
        await tabs.first().waitFor();
        // On a room box, IT staff also see its sync with the central office.
        await page.getByTestId('staff-tabs').getByRole('link', { name: 'Đồng bộ' }).waitFor();
        assert.deepEqual(await tabs.allInnerTexts(), ['Tổng quan', 'Người tham dự', 'Cơ quan', 'Đồng bộ', 'Tài khoản']);
        const tiles = page.getByTestId('desk-tiles');
        await tiles.getByRole('link', { name: /Người tham dự/ }).waitFor();
        assert.equal(await tiles.getByRole('link', { name: /Cuộc họp/ }).count(), 0);
        assert.equal(await tiles.getByRole('link', { name: /Sơ đồ phòng/ }).count(), 0);
        assert.equal(await page.getByText('Cuộc họp sắp tới').count(), 0);
        assert.equal(await page.getByTestId('metrics-link').getAttribute('href'), '/metrics');
        assert.equal(await page.evaluate(() => fetch('/metrics').then((r) => r.status)), 200);
        await screenshots(page, 'staff-7-it-admin-desk');

        // People: read, no import or adding.
        await tabs.filter({ hasText: 'Người tham dự' }).click();
        await page.waitForURL((u) => u.pathname === '/desk/people');
        await page.getByTestId('people-count').or(page.getByText('Chưa có ai')).first().waitFor();
        assert.equal(await page.getByTestId('open-import').count(), 0);

        // The meetings list by its address: a clear refusal with the way back, and no call to the box.
        for (const address of ['/desk/meetings', `/desk/meetings/${'a'.repeat(32)}/prepare`, `/chair/meetings/${'a'.repeat(32)}`]) {
          await page.goto(`${box.origin}${address}`);
          await waitForText(page.getByTestId('not-allowed'), 'Bạn không có quyền xem trang này');
        }
        await page.goto(`${box.origin}/desk/meetings`);
        await waitForText(page.getByTestId('not-allowed'), 'Bạn không có quyền xem trang này');
        await screenshots(page, 'staff-8-it-admin-no-permission');
        assert.equal(await page.getByTestId('staff-tabs').getByRole('link', { name: 'Cuộc họp' }).count(), 0);
        await page.getByTestId('not-allowed-back').click();
        await page.waitForURL((u) => u.pathname === '/desk');
        await tiles.getByRole('link', { name: /Người tham dự/ }).waitFor();

        assert.deepEqual(answers.filter((a) => /\/api\/meetings/.test(a)), [], 'no meeting call was made');
        assert.deepEqual(answers.filter((a) => a.startsWith('403')), [], 'nothing was refused');
        assert.deepEqual(errors, [], 'errors in the page');
      } finally {
        await context.close();
      }
    }));
});
