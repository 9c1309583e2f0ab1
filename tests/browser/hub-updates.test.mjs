// The hub's "Các hộp phòng họp" page (issue 13): IT staff see the releases the office offered
// to the boxes, and a warning while the hub has no release key to pin in enrolling boxes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BIN, Box, launchChromium, newTablet, waitForCount, waitForText } from './helpers.mjs';

async function signIn(page, url, password) {
  await page.goto(url);
  await page.waitForURL(/\/staff\/sign-in\?next=/);
  await page.getByLabel('Tên đăng nhập').fill('admin');
  await page.getByLabel('Mật khẩu', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Đăng nhập' }).click();
  await page.waitForURL((u) => u.pathname === new URL(url).pathname);
}

describe('central office: offered updates', () => {
  /** @type {Box} */
  let hub;
  let chrome;
  let office;

  before(async () => {
    hub = await Box.create({ room: 'Trung tâm tỉnh (thử nghiệm)', hub: true });
    office = fs.mkdtempSync(path.join(os.tmpdir(), 'phonghop-office-'));
    chrome = await launchChromium([hub.caPem]);
  });

  after(async () => {
    await chrome?.close();
    await hub?.destroy();
    if (office) fs.rmSync(office, { recursive: true, force: true });
  });

  test('no release key: a warning; with a key and an offer: the offer is listed', { timeout: 120_000 }, async () => {
    let ctx = await newTablet(chrome.browser);
    let page = await ctx.newPage();
    await signIn(page, `${hub.origin}/staff/hub`, hub.adminPassword);
    await waitForText(
      page.getByTestId('hub-updates-no-key'),
      'Trung tâm chưa có khóa phát hành: hộp đăng ký lúc này sẽ từ chối mọi bản cập nhật. Xem hướng dẫn vận hành, mục 22.',
    );
    await waitForText(page.getByTestId('hub-updates-none'), 'Chưa mời bản cập nhật nào.');
    await ctx.close();
    await hub.stop();

    // The office makes its key and signs a release; the hub, stopped, offers it to every box.
    execFileSync(BIN, ['release', 'keygen', '--out', office, '--no-password']);
    const bin = path.join(office, 'phonghop');
    fs.writeFileSync(bin, Buffer.alloc(3 * 1_048_576, 7));
    execFileSync(BIN, ['release', 'sign', '--key', path.join(office, 'phonghop-release.key'), '--file', bin, '--version', '0.3.0', '--target', 'aarch64-linux']);
    fs.copyFileSync(path.join(office, 'phonghop-release.pub'), path.join(hub.dataDir, 'release-key.pub'));
    execFileSync(BIN, ['hub', 'offer-update', '--data', hub.dataDir, '--file', bin]);
    await hub.start();

    ctx = await newTablet(chrome.browser);
    page = await ctx.newPage();
    await signIn(page, `${hub.origin}/staff/hub`, hub.adminPassword);
    const rows = page.getByTestId('hub-update');
    await waitForCount(rows, 1);
    const text = await rows.first().innerText();
    for (const part of ['0.3.0', 'aarch64-linux', '3.0 MB', 'mọi hộp']) assert.ok(text.includes(part), `${part} in ${text}`);
    assert.equal(await page.getByTestId('hub-updates-no-key').count(), 0);
    await ctx.close();
  });
});
