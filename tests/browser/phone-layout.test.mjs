// Issue 8, item 13 (layout): on a phone, the seating plan keeps "Bàn chủ tọa" readable (no seat
// covers it), seat labels are at least 12 px, and the people table shows whole phone numbers.
// With PHONGHOP_SCREENSHOTS set, the phone-size screens are kept as PNGs to look at.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { BIN, Box, launchChromium, newTablet, screenshots } from './helpers.mjs';

const PHONE = { width: 390, height: 844 };

describe('phone layout', () => {
  let box;
  let chrome;
  let context;
  let page;
  let meetingId;

  before(async () => {
    box = await Box.create({ room: 'Phòng họp UBND xã Tân Phú' });
    await box.stop();
    execFileSync(BIN, ['admin', 'create', '--data', box.dataDir, '--username', 'thuky', '--name', 'Trần Thị Thu', '--role', 'secretary', '--password', 'thuky-demo'], { stdio: 'pipe' });
    await box.start();
    chrome = await launchChromium(box.caPem);
    const res = await box.request('POST', '/api/session', { json: { username: 'thuky', password: 'thuky-demo' }, headers: { Origin: box.origin } });
    const cookie = [].concat(res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).find((c) => c.startsWith('phonghop_session='));
    const call = async (method, pathname, json) => {
      const r = await box.request(method, pathname, { json, headers: { Cookie: cookie, Origin: box.origin } });
      assert.ok(r.status >= 200 && r.status < 300, `${method} ${pathname} → ${r.status} ${r.text}`);
      return r.json;
    };
    const people = [];
    for (const [name, position, phone] of [
      ['Nguyễn Văn An', 'Chủ tịch UBND xã', '0912 345 678'],
      ['Trần Thị Bình', 'Phó Chủ tịch UBND xã phụ trách văn hóa - xã hội', '0987 654 321'],
      ['Lê Văn Cường', 'Công chức Tài chính - Kế toán', '+84 912 000 111'],
      ['Phạm Thị Dung', 'Ủy viên UBND xã', '0203 3812 345'],
    ]) {
      people.push(await call('POST', '/api/people', { name, position, phone, unit: 'UBND xã Tân Phú' }));
    }
    const body = await call('POST', '/api/bodies', { name: 'UBND xã Tân Phú', kind: 'ubnd' });
    await call('PUT', `/api/bodies/${body.id}/members`, { members: people.map((p) => p.id) });
    meetingId = (await call('POST', '/api/meetings', { body_id: body.id, title: 'Họp thường kỳ', starts_at: '2026-12-01T01:00:00Z', chair_id: people[0].id })).id;
    // The chair's seat right where the table is drawn, the front row just below it.
    await call('PUT', '/api/room/layout', {
      shape: 'free',
      seats: [
        { id: 'CT', label: 'CT', x: 500, y: 80 },
        { id: 'A1', label: 'A1', x: 300, y: 200 },
        { id: 'A2', label: 'A2', x: 450, y: 200 },
        { id: 'A3', label: 'A3', x: 600, y: 200 },
        { id: 'A4', label: 'A4', x: 750, y: 200 },
        { id: 'B1', label: 'B1', x: 300, y: 330 },
        { id: 'B2', label: 'B2', x: 450, y: 330 },
        { id: 'B3', label: 'B3', x: 600, y: 330 },
        { id: 'B4', label: 'B4', x: 750, y: 330 },
      ],
    });
    await call('PUT', `/api/meetings/${meetingId}/seats`, { assignments: { CT: people[0].id, A1: people[1].id, A2: people[2].id, A3: people[3].id } });
    context = await newTablet(chrome.browser);
    page = await context.newPage();
    await page.setViewportSize(PHONE);
    await page.goto(`${box.origin}/`);
    await page.evaluate(async () =>
      fetch('/api/session', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: 'thuky', password: 'thuky-demo' }) }),
    );
  });

  after(async () => {
    await context?.close();
    await chrome?.close();
    await box?.destroy();
  });

  test('the seating plan: no seat covers the chair table, seat labels at least 12 px', { timeout: 60_000 }, async () => {
    await page.goto(`${box.origin}/desk/meetings/${meetingId}/seats`);
    const map = page.locator('[data-testid="seating-map"]').first();
    await map.locator('[data-seat="CT"]').waitFor();
    await screenshots(page, 'phone-seating-plan');
    const table = await page.getByTestId('chair-table').first().boundingBox();
    for (const seat of await map.locator('[data-seat] rect.box').all()) {
      const b = await seat.boundingBox();
      const overlap = b.x < table.x + table.width && b.x + b.width > table.x && b.y < table.y + table.height && b.y + b.height > table.y;
      assert.ok(!overlap, `a seat covers the chair table: seat ${JSON.stringify(b)}, table ${JSON.stringify(table)}`);
    }
    const label = map.locator('[data-seat="A1"] text.seat-label');
    if ((await label.count()) > 0) {
      const px = (await label.boundingBox()).height;
      assert.ok(px >= 12, `seat labels are readable on a phone: ${px.toFixed(1)} px tall`);
    }
  });

  test('the people table shows whole phone numbers on a phone', { timeout: 60_000 }, async () => {
    await page.goto(`${box.origin}/desk/people`);
    await page.getByTestId('people-table').waitFor();
    await screenshots(page, 'phone-people');
    // Without scrolling sideways: each row's phone number, wherever it is shown, whole.
    const rows = await page.locator('[data-testid="people-table"] tbody tr').all();
    assert.equal(rows.length, 4);
    for (const row of rows) {
      const seen = await row.evaluate((tr) => {
        const shown = [...tr.querySelectorAll('[data-testid="person-phone"]')].filter((el) => el.getClientRects().length > 0);
        return shown.map((el) => {
          const r = el.getBoundingClientRect();
          let visible = r.left >= 0 && r.right <= document.documentElement.clientWidth;
          for (let p = el.parentElement; p; p = p.parentElement) {
            if (getComputedStyle(p).overflowX !== 'visible') {
              const b = p.getBoundingClientRect();
              if (r.left < b.left || r.right > b.right) visible = false;
            }
          }
          return { text: el.innerText.trim(), visible, whole: el.scrollWidth <= el.clientWidth + 1 };
        });
      });
      assert.equal(seen.length, 1, `one phone number shown per row: ${JSON.stringify(seen)}`);
      assert.ok(seen[0].visible && seen[0].whole && seen[0].text.length >= 10, `phone number clipped: ${JSON.stringify(seen[0])}`);
    }
  });
});
