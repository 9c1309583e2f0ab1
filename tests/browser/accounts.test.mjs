// Staff accounts in a real Chromium against the real box: the IT admin adds an account on the
// "Tài khoản" page, the new secretary changes their own password, and the IT admin signs them
// out everywhere, disables, enables, resets the password and removes the account — each felt at
// once in the secretary's own browser.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Box, launchChromium, newTablet, screenshots, waitForText, withBoxLog } from './helpers.mjs';

const ROOM = 'Phòng họp UBND xã Tân Phú';
const NEW = { username: 'thuky2', name: 'Đỗ Thị Hằng', first: 'mat-khau-ban-dau', own: 'mat-khau-cua-hang', reset: 'mat-khau-cap-lai' };


/** Fills the sign-in screen; `next` is where the page was sent from. */
async function signInForm(page, username, password) {
  await page.getByLabel('Tên đăng nhập').fill(username);
  await page.getByLabel('Mật khẩu', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Đăng nhập' }).click();
}

/** Whether this browser's staff cookie still opens a session. */
async function signedIn(page) {
  return page.evaluate(() => fetch('/api/session').then((r) => r.json()).then((j) => j.signed_in));
}

describe('staff accounts', () => {
  /** @type {Box} */
  let box;
  let chrome;

  before(async () => {
    box = await Box.create({ room: ROOM });
    chrome = await launchChromium(box.caPem);
  });

  after(async () => {
    await chrome?.close();
    await box?.destroy();
  });

  test('the IT admin adds, signs out, disables, enables, resets and removes; the secretary changes their own password', { timeout: 120_000 }, () =>
    withBoxLog(box, async () => {
      const adminCtx = await newTablet(chrome.browser);
      const secCtx = await newTablet(chrome.browser);
      try {
        const admin = await adminCtx.newPage();
        const errors = [];
        admin.on('pageerror', (e) => errors.push(String(e)));
        await admin.goto(`${box.origin}/desk/accounts`);
        await admin.waitForURL(/\/staff\/sign-in\?next=/);
        await signInForm(admin, 'admin', box.adminPassword);
        await admin.waitForURL((u) => u.pathname === '/desk/accounts');
        await waitForText(admin.getByRole('heading', { level: 1 }), 'Tài khoản cán bộ');
        const tabs = admin.getByTestId('staff-tabs').getByRole('link');
        // On a room box, IT staff also see its sync with the central office.
        await admin.getByTestId('staff-tabs').getByRole('link', { name: 'Đồng bộ' }).waitFor();
        assert.deepEqual(await tabs.allInnerTexts(), ['Tổng quan', 'Người tham dự', 'Cơ quan', 'Đồng bộ', 'Tài khoản']);
        // Their own row offers only "Đổi mật khẩu".
        const own = admin.getByTestId('account-admin');
        await own.waitFor();
        assert.equal(await own.getByRole('button').count(), 0);
        await own.getByRole('link', { name: /Đổi mật khẩu/ }).waitFor();

        // Add a secretary while the box runs.
        await admin.getByTestId('add-account').click();
        const form = admin.getByTestId('add-account-form');
        await form.getByLabel('Họ và tên').fill(NEW.name);
        await form.getByLabel('Tên đăng nhập').fill(NEW.username);
        await form.getByLabel('Mật khẩu ban đầu').fill('ngan');
        await form.getByRole('button', { name: 'Tạo tài khoản' }).click();
        await waitForText(form.getByRole('alert'), /ít nhất một vai trò và mật khẩu \(từ 8 ký tự\)/);
        await form.getByLabel('Mật khẩu ban đầu').fill(NEW.first);
        await form.getByRole('button', { name: 'Tạo tài khoản' }).click();
        await waitForText(admin.getByTestId('accounts-notice'), `Đã tạo tài khoản ${NEW.username} cho ${NEW.name}.`);
        const row = admin.getByTestId(`account-${NEW.username}`);
        await waitForText(row.getByTestId('account-status'), 'Đang hoạt động');
        await screenshots(admin, 'accounts-1-list');

        // The secretary signs in and changes their password: a wrong current one is refused.
        const sec = await secCtx.newPage();
        sec.on('pageerror', (e) => errors.push(String(e)));
        await sec.goto(`${box.origin}/desk`);
        await sec.waitForURL(/\/staff\/sign-in\?next=/);
        await signInForm(sec, NEW.username, NEW.first);
        await sec.waitForURL((u) => u.pathname === '/desk');
        await sec.getByTestId('change-password').click();
        await sec.waitForURL((u) => u.pathname === '/staff/password');
        await sec.getByLabel('Mật khẩu hiện tại').fill('khong-phai-dau');
        await sec.getByLabel('Mật khẩu mới', { exact: true }).fill(NEW.own);
        await sec.getByLabel('Nhập lại mật khẩu mới').fill(NEW.own + 'x');
        await sec.getByRole('button', { name: 'Đổi mật khẩu' }).click();
        await waitForText(sec.locator('#pw-repeat-error'), 'Hai lần nhập mật khẩu mới không giống nhau.');
        await sec.getByLabel('Nhập lại mật khẩu mới').fill(NEW.own);
        await sec.getByRole('button', { name: 'Đổi mật khẩu' }).click();
        await waitForText(sec.locator('#pw-current-error'), 'Mật khẩu hiện tại không đúng. Mật khẩu chưa được đổi.');
        await sec.getByLabel('Mật khẩu hiện tại').fill(NEW.first);
        await sec.getByRole('button', { name: 'Đổi mật khẩu' }).click();
        await waitForText(sec.getByTestId('password-changed'), /^Đã đổi mật khẩu\./);
        await screenshots(sec, 'accounts-2-password-changed');
        assert.equal(await signedIn(sec), true, 'the session that changed it stays');

        // The IT admin signs them out everywhere.
        await admin.reload();
        await waitForText(row.getByTestId('account-sessions'), '1');
        assert.notEqual(await row.locator('td').nth(5).innerText(), 'Chưa đổi từ khi tạo');
        await row.getByTestId('end-sessions').click();
        await waitForText(row.getByRole('group'), /Đăng xuất Đỗ Thị Hằng khỏi mọi máy ngay bây giờ\?/);
        await row.getByTestId('end-sessions-yes').click();
        await waitForText(admin.getByTestId('accounts-notice'), `Đã đăng xuất ${NEW.name} khỏi 1 phiên đăng nhập.`);
        assert.equal(await signedIn(sec), false);
        await sec.goto(`${box.origin}/desk`);
        await sec.waitForURL(/\/staff\/sign-in\?next=/);

        // Disabled: the right password gets a reason, in Vietnamese.
        await row.getByTestId('disable').click();
        await row.getByTestId('disable-yes').click();
        await waitForText(admin.getByTestId('accounts-notice'), `Đã khóa tài khoản của ${NEW.name}.`);
        await waitForText(row.getByTestId('account-status'), 'Đã khóa');
        await signInForm(sec, NEW.username, NEW.own);
        await waitForText(sec.getByTestId('signin-error'), 'Tài khoản này đã bị khóa. Hãy liên hệ cán bộ CNTT.');
        await screenshots(sec, 'accounts-3-disabled-sign-in');

        // Enabled again, then a new password from the IT admin; the one they chose stops working.
        await row.getByTestId('enable').click();
        await waitForText(row.getByTestId('account-status'), 'Đang hoạt động');
        await row.getByTestId('reset-password').click();
        await row.getByLabel(`Mật khẩu mới cho ${NEW.name}`).fill(NEW.reset);
        await row.getByRole('button', { name: 'Đặt mật khẩu mới' }).click();
        await waitForText(admin.getByTestId('accounts-notice'), `Đã đặt mật khẩu mới cho ${NEW.name}. Mọi phiên đăng nhập của họ đã kết thúc.`);
        await signInForm(sec, NEW.username, NEW.own);
        await waitForText(sec.getByTestId('signin-error'), /không đúng/);
        await signInForm(sec, NEW.username, NEW.reset);
        await sec.waitForURL((u) => u.pathname === '/desk');

        // Removed: the open session ends and the row is gone.
        await row.getByTestId('remove').click();
        await row.getByTestId('remove-yes').click();
        await waitForText(admin.getByTestId('accounts-notice'), `Đã xóa tài khoản của ${NEW.name}.`);
        await row.waitFor({ state: 'detached' });
        assert.equal(await signedIn(sec), false);
        await screenshots(admin, 'accounts-4-removed');
        assert.deepEqual(errors, [], 'errors in the pages');
      } finally {
        await adminCtx.close();
        await secCtx.close();
      }
    }));

  test('a secretary signed out by the IT admin leaves the attendance desk for the sign-in screen at once', { timeout: 60_000 }, () =>
    withBoxLog(box, async () => {
      const call = async (cookie, method, pathname, json) => {
        const r = await box.request(method, pathname, { json, headers: { Cookie: cookie, Origin: box.origin } });
        assert.ok(r.status >= 200 && r.status < 300, `${method} ${pathname} → ${r.status} ${r.text}`);
        return r.json;
      };
      const signIn = async (username, password) => {
        const r = await box.request('POST', '/api/session', { json: { username, password }, headers: { Origin: box.origin } });
        assert.equal(r.status, 200, r.text);
        return [].concat(r.headers['set-cookie']).map((c) => c.split(';')[0]).find((c) => c.startsWith('phonghop_session='));
      };
      const admin = await signIn('admin', box.adminPassword);
      await call(admin, 'POST', '/api/accounts', { username: 'thuky3', display_name: 'Lò Văn Sáng', roles: ['secretary'], password: 'mat-khau-thu-ky-3' });
      const api = await signIn('thuky3', 'mat-khau-thu-ky-3');
      const person = await call(api, 'POST', '/api/people', { name: 'Lê Văn An' });
      const body = await call(api, 'POST', '/api/bodies', { name: 'UBND xã Thử Nghiệm', kind: 'ubnd' });
      await call(api, 'PUT', `/api/bodies/${body.id}/members`, { members: [person.id] });
      const meeting = await call(api, 'POST', '/api/meetings', { body_id: body.id, title: 'Họp thử đăng xuất', starts_at: '2026-12-02T02:00:00Z' });

      const context = await newTablet(chrome.browser);
      try {
        const page = await context.newPage();
        const at = `/desk/meetings/${meeting.id}/attendance`;
        await page.goto(`${box.origin}${at}`);
        await page.waitForURL(/\/staff\/sign-in\?next=/);
        await signInForm(page, 'thuky3', 'mat-khau-thu-ky-3');
        await page.waitForURL((u) => u.pathname === at);
        await page.getByText('Lê Văn An').first().waitFor();
        // Wait until the page's live feed is open, so its end is what is tested.
        await waitForText(page.getByText('Đã kết nối').first(), 'Đã kết nối');
        const ended = await call(admin, 'DELETE', '/api/accounts/thuky3/sessions');
        assert.equal(ended.ended, 2);
        await page.waitForURL((u) => u.pathname === '/staff/sign-in' && u.searchParams.get('next') === at, { timeout: 10_000 });
        await page.getByRole('button', { name: 'Đăng nhập' }).waitFor();
      } finally {
        await context.close();
      }
    }));
});
