// The province root in a real Chromium (issue 12): a box that served on its own enrols with a
// hub holding a province CA (the offline ceremony run with the real binary). A Chromium
// trusting ONLY the province root opens the box, one trusting ONLY the box's old root still
// does (the box's old root cross-signed its new CA), and the IT page and the onboarding page
// say the box has joined the province.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { apiAs, BIN, Box, launchChromium, newTablet, screenshots, waitForText } from './helpers.mjs';

const HUB_ROOM = 'Trung tâm tỉnh (thử nghiệm)';
const ROOM = 'Phòng họp UBND xã Tân Phú';

function run(args) {
  return execFileSync(BIN, args, { stdio: 'pipe', timeout: 60_000 }).toString();
}

describe('province root', () => {
  /** @type {Box} */
  let hub;
  /** @type {Box} */
  let box;
  let usb;
  let oldRoot;
  let provinceRoot;

  before(async () => {
    hub = await Box.create({ room: HUB_ROOM, hub: true });
    box = await Box.create({ room: ROOM });
    oldRoot = box.caPem;
    await box.stop();

    // The ceremony: root offline, request on the hub, signature offline, install on the hub.
    usb = await fsp.mkdtemp(path.join(os.tmpdir(), 'phonghop-usb-'));
    run(['province-ca', 'init', '--out', path.join(usb, 'root'), '--name', 'Tỉnh Thử Nghiệm']);
    run(['hub', 'ca-request', '--data', hub.dataDir, '--out', path.join(usb, 'issuing.csr')]);
    run(['province-ca', 'sign', '--root', path.join(usb, 'root'), '--csr', path.join(usb, 'issuing.csr'), '--out', path.join(usb, 'issuing.pem')]);
    const rootPem = path.join(usb, 'root', 'province-root.pem');
    run(['hub', 'ca-install', '--data', hub.dataDir, '--cert', path.join(usb, 'issuing.pem'), '--root', rootPem]);
    provinceRoot = await fsp.readFile(rootPem, 'utf8');

    const it = await apiAs(hub, { username: 'admin', password: hub.adminPassword });
    const { token } = await it.call('POST', '/api/hub/enrolments', { room: ROOM });
    const out = run(['enroll', '--data', box.dataDir, hub.origin, token]);
    assert.match(out, /province root/);
    await box.start();
    assert.equal(box.caPem, provinceRoot, 'tls/root.pem is now the province root');
  });

  after(async () => {
    await box?.destroy();
    await hub?.destroy();
    if (usb) await fsp.rm(usb, { recursive: true, force: true });
  });

  test('a Chromium trusting only the province root opens the box; the IT page names the root', { timeout: 120_000 }, async () => {
    const chrome = await launchChromium(provinceRoot);
    try {
      const ctx = await newTablet(chrome.browser);
      const page = await ctx.newPage();
      await page.goto(`${box.origin}/staff/sync`);
      await page.waitForURL(/\/staff\/sign-in\?next=/);
      await page.getByLabel('Tên đăng nhập').fill('admin');
      await page.getByLabel('Mật khẩu', { exact: true }).fill(box.adminPassword);
      await page.getByRole('button', { name: 'Đăng nhập' }).click();
      await page.waitForURL((u) => u.pathname === '/staff/sync');
      await waitForText(page.getByTestId('sync-trust-root'), 'Chứng thư gốc của tỉnh: Tỉnh Thử Nghiệm Root CA');
      assert.equal(await page.getByTestId('sync-trust').getAttribute('data-mode'), 'province');
      assert.equal(await page.getByTestId('sync-trust-uncovered').count(), 0);
      await screenshots(page, 'province-it-page');

      // The onboarding page (plain HTTP) offers the province root and says why.
      await page.goto(`http://localhost:${box.serving.http_port}/`);
      await waitForText(page.locator('#province'), /Hộp này đã gia nhập hệ thống phòng họp của tỉnh/);
      assert.match(await page.locator('body').innerText(), /Cài Chứng thư gốc của tỉnh/);
      await screenshots(page, 'province-onboarding');
      await ctx.close();
    } finally {
      await chrome.close();
    }
  });

  test('a Chromium trusting only the box\'s old root still opens it; one trusting nothing does not', { timeout: 120_000 }, async () => {
    const old = await launchChromium(oldRoot);
    try {
      const page = await (await newTablet(old.browser)).newPage();
      const res = await page.goto(`${box.origin}/healthz`);
      assert.equal(res.status(), 200);
      const ip = await page.goto(`https://127.0.0.1:${box.port}/healthz`);
      assert.equal(ip.status(), 200);
    } finally {
      await old.close();
    }
    const none = await launchChromium(null);
    try {
      const page = await (await newTablet(none.browser)).newPage();
      await assert.rejects(page.goto(`${box.origin}/healthz`), /ERR_CERT_AUTHORITY_INVALID/);
    } finally {
      await none.close();
    }
  });
});
