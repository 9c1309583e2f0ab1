// A document file damaged on the box's disk: the box refuses to serve it, and the secretary's
// desk says which document it is and where to upload it again.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BIN, Box, launchChromium, newTablet, waitForText } from './helpers.mjs';

const SECRETARY = { username: 'thuky', name: 'Trần Thị Thu', password: 'thuky-demo-2026' };

function postBytes(box, pathname, bytes, headers) {
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${box.origin}${pathname}`,
      { method: 'POST', ca: box.caPem, headers: { Accept: 'application/json', Origin: box.origin, 'Content-Length': bytes.length, ...headers } },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(bytes);
  });
}

describe('a damaged document file', () => {
  /** @type {Box} */
  let box;
  let chrome;
  let cookie;
  let meetingId;
  let sha;

  before(async () => {
    box = await Box.create({ room: 'Phòng họp UBND xã Tân Phú' });
    await box.stop();
    execFileSync(BIN, ['admin', 'create', '--data', box.dataDir, '--username', SECRETARY.username, '--name', SECRETARY.name, '--role', 'secretary', '--password', SECRETARY.password], {
      stdio: 'pipe',
      timeout: 60_000,
    });
    await box.start();
    chrome = await launchChromium(box.caPem);
    const res = await box.request('POST', '/api/session', { json: { username: SECRETARY.username, password: SECRETARY.password }, headers: { Origin: box.origin } });
    assert.equal(res.status, 200, res.text);
    cookie = [].concat(res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).find((c) => c.startsWith('phonghop_session='));
    const call = async (method, pathname, json) => {
      const r = await box.request(method, pathname, { json, headers: { Cookie: cookie, Origin: box.origin } });
      assert.ok(r.status >= 200 && r.status < 300, `${method} ${pathname} → ${r.status} ${r.text}`);
      return r.json;
    };
    const body = await call('POST', '/api/bodies', { name: 'UBND xã Tân Phú', kind: 'ubnd' });
    const meeting = await call('POST', '/api/meetings', { body_id: body.id, title: 'Họp UBND tháng 12', starts_at: '2026-12-20T01:00:00Z' });
    meetingId = meeting.id;
    const item = await call('POST', `/api/meetings/${meeting.id}/items`, { title: 'Dự toán ngân sách' });
    const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(100_000, 'x')]);
    const up = await postBytes(box, `/api/meetings/${meeting.id}/items/${item.id}/documents?title=${encodeURIComponent('Tờ trình dự toán')}`, pdf, {
      Cookie: cookie,
      'X-File-Name': encodeURIComponent('to-trinh.pdf'),
    });
    assert.equal(up.status, 201, up.text);
    sha = JSON.parse(up.text).versions[0].sha256;
  });

  after(async () => {
    await chrome?.close();
    await box?.destroy();
  });

  test('is refused, and the desk names the document to upload again', { timeout: 60_000 }, async () => {
    const file = path.join(box.dataDir, 'blobs', sha.slice(0, 2), sha);
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.from('y'), 0, 1, 50_000);
    fs.closeSync(fd);

    const r = await box.request('GET', `/api/blobs/${sha}`, { headers: { Cookie: cookie, Range: 'bytes=0-99' } });
    assert.equal(r.status, 500);
    assert.equal(r.json.code, 'document.damaged');

    const context = await newTablet(chrome.browser);
    try {
      const page = await context.newPage();
      await page.goto(`${box.origin}/desk`);
      await page.waitForURL(/\/staff\/sign-in\?next=/);
      await page.getByLabel('Tên đăng nhập').fill(SECRETARY.username);
      await page.getByLabel('Mật khẩu').fill(SECRETARY.password);
      await page.getByRole('button', { name: 'Đăng nhập' }).click();
      await page.waitForURL((u) => u.pathname === '/desk');
      const alert = page.getByTestId('damaged-documents');
      await waitForText(alert, /Có 1 tệp tài liệu bị hỏng trong thiết bị/);
      const text = await alert.innerText();
      assert.match(text, /Tờ trình dự toán \(to-trinh\.pdf\) — Họp UBND tháng 12/);
      assert.equal(await alert.getByRole('link', { name: 'Chuẩn bị cuộc họp' }).getAttribute('href'), `/desk/meetings/${meetingId}/prepare`);
    } finally {
      await context.close();
    }
  });
});
