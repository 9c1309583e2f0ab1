// Issue 8, items 10 and 11: the desk lists meetings by time, not by the text of their times
// (sent with +07:00 or Z), and the preparation screen disables what the meeting's step forbids,
// saying why, instead of letting the secretary click into a refusal.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { BIN, Box, launchChromium, newTablet, waitForText } from './helpers.mjs';

const SECRETARY = { username: 'thuky', name: 'Trần Thị Thu', password: 'thuky-demo' };
const CHAIR = { username: 'chutich', name: 'Nguyễn Văn An', password: 'chutich-demo' };

async function signIn(box, { username, password }) {
  const res = await box.request('POST', '/api/session', { json: { username, password }, headers: { Origin: box.origin } });
  assert.equal(res.status, 200, res.text);
  const cookie = [].concat(res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).find((c) => c.startsWith('phonghop_session='));
  return async (method, pathname, json) => {
    const r = await box.request(method, pathname, { json, headers: { Cookie: cookie, Origin: box.origin } });
    assert.ok(r.status >= 200 && r.status < 300, `${method} ${pathname} → ${r.status} ${r.text}`);
    return r.json;
  };
}

describe('meeting order and step rules on the desk', () => {
  let box;
  let chrome;
  let page;
  let context;
  const ids = {};

  before(async () => {
    box = await Box.create({ room: 'Phòng họp UBND xã Tân Phú' });
    await box.stop();
    for (const a of [
      { ...SECRETARY, role: 'secretary' },
      { ...CHAIR, role: 'chair' },
    ]) {
      execFileSync(BIN, ['admin', 'create', '--data', box.dataDir, '--username', a.username, '--name', a.name, '--role', a.role, '--password', a.password], { stdio: 'pipe' });
    }
    await box.start();
    chrome = await launchChromium(box.caPem);
    const desk = await signIn(box, SECRETARY);
    const chair = await signIn(box, CHAIR);
    const p = await desk('POST', '/api/people', { name: 'Lê Văn Cường' });
    const body = await desk('POST', '/api/bodies', { name: 'UBND xã Tân Phú', kind: 'ubnd' });
    await desk('PUT', `/api/bodies/${body.id}/members`, { members: [p.id] });
    // As text, "2026-12-01T08:00:00+07:00" sorts after "2026-12-01T02:00:00Z"; in time it is
    // 01:00 UTC, an hour before.
    ids.vn = (await desk('POST', '/api/meetings', { body_id: body.id, title: 'Họp sáng (giờ Việt Nam)', starts_at: '2026-12-01T08:00:00+07:00' })).id;
    ids.utc = (await desk('POST', '/api/meetings', { body_id: body.id, title: 'Họp trưa (giờ UTC)', starts_at: '2026-12-01T02:00:00Z' })).id;
    for (const t of ['Báo cáo tình hình', 'Tờ trình ngân sách']) await desk('POST', `/api/meetings/${ids.vn}/items`, { title: t, presenter: 'Văn phòng' });
    for (const t of ['Báo cáo tình hình', 'Tờ trình ngân sách']) await desk('POST', `/api/meetings/${ids.utc}/items`, { title: t, presenter: 'Văn phòng' });
    await desk('POST', `/api/meetings/${ids.vn}/submit`);
    await chair('POST', `/api/meetings/${ids.vn}/approve`);
    await desk('POST', `/api/meetings/${ids.vn}/publish`);

    context = await newTablet(chrome.browser);
    page = await context.newPage();
    await page.goto(`${box.origin}/`);
    await page.evaluate(
      async ({ username, password }) => fetch('/api/session', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username, password }) }),
      SECRETARY,
    );
  });

  after(async () => {
    await context?.close();
    await chrome?.close();
    await box?.destroy();
  });

  test('the meetings list is in order of time, newest first', { timeout: 60_000 }, async () => {
    await page.goto(`${box.origin}/desk/meetings`);
    const titles = page.locator('[data-testid="meetings-list"] .m-title');
    await titles.first().waitFor();
    assert.deepEqual(await titles.allInnerTexts(), ['Họp trưa (giờ UTC)', 'Họp sáng (giờ Việt Nam)']);
    const api = await page.evaluate((id) => fetch(`/api/meetings/${id}`).then((r) => r.json()), ids.vn);
    assert.equal(api.starts_at, '2026-12-01T01:00:00Z', 'the API answers in UTC');
  });

  test('a published meeting: the order arrows and removal are disabled, and the screen says why', { timeout: 60_000 }, async () => {
    await page.goto(`${box.origin}/desk/meetings/${ids.vn}/prepare`);
    await waitForText(page.getByTestId('meeting-status'), /Đã phát hành/);
    await waitForText(page.getByTestId('agenda-locked'), /đã phát hành: không đổi được thứ tự/);
    for (const b of await page.getByTestId('item-up').all()) assert.equal(await b.isDisabled(), true);
    for (const b of await page.getByTestId('item-down').all()) assert.equal(await b.isDisabled(), true);
    assert.equal(await page.getByTestId('item-down').first().getAttribute('aria-describedby'), 'agenda-locked');
    assert.equal(await page.getByTestId('item-remove-locked').first().isDisabled(), true);
    // Editing an item is still allowed after publishing.
    assert.equal(await page.getByTestId('item-edit').first().isDisabled(), false);

    // A draft: the arrows work and nothing says "locked".
    await page.goto(`${box.origin}/desk/meetings/${ids.utc}/prepare`);
    await waitForText(page.getByTestId('meeting-status'), /Bản nháp/);
    assert.equal(await page.getByTestId('agenda-locked').count(), 0);
    assert.equal(await page.getByTestId('item-down').first().isDisabled(), false);
    await page.getByTestId('item-down').first().click();
    await waitForText(page.getByTestId('prep-notice'), 'Đã lưu thứ tự mới.');
  });
});
