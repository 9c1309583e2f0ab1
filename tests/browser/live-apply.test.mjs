// Screens apply the meeting's live events themselves (issue 7, item 4): with three delegates'
// tablets on their meeting page, the chair's console and the secretary's attendance desk open,
// a check-in, a mark at the desk, a new agenda item, a new seat plan and a new time reach every
// screen without a single GET, in the browsers (counted per page) and on the box (counted in
// /metrics). A kind the screen cannot apply, and a reconnect, are covered too.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Box, REPO, addStaff, launchChromium, newTablet, waitForText, waitForCount } from './helpers.mjs';

const SECRETARY = { username: 'thuky', name: 'Trần Thị Thu', password: 'thuky-demo' };
const CHAIR = { username: 'chutich', name: 'Nguyễn Văn An', password: 'chutich-demo' };

/** Uploads a fixture PDF the way the desk does (raw body). */
function upload(box, cookie, pathname, fixture) {
  const bytes = fs.readFileSync(path.join(REPO, 'tests', 'fixtures', fixture));
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${box.origin}${pathname}`,
      { method: 'POST', ca: box.caPem, headers: { Accept: 'application/json', Origin: box.origin, Cookie: cookie, 'Content-Type': 'application/pdf', 'X-File-Name': fixture, 'Content-Length': bytes.length } },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 201) reject(new Error(`upload → ${res.statusCode} ${text}`));
          else resolve(JSON.parse(text));
        });
      },
    );
    req.on('error', reject);
    req.end(bytes);
  });
}

async function signIn(box, { username, password }) {
  const res = await box.request('POST', '/api/session', { json: { username, password }, headers: { Origin: box.origin } });
  assert.equal(res.status, 200, `sign in as ${username}: ${res.text}`);
  const cookie = [].concat(res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).find((c) => c.startsWith('phonghop_session='));
  const call = async (method, pathname, json) => {
    const r = await box.request(method, pathname, { json, headers: { Cookie: cookie, Origin: box.origin } });
    assert.ok(r.status >= 200 && r.status < 300, `${method} ${pathname} → ${r.status} ${r.text}`);
    return r.json;
  };
  call.cookie = cookie;
  return call;
}

async function staffPage(browser, box, account, pathname) {
  const context = await newTablet(browser);
  const page = await context.newPage();
  await page.goto(`${box.origin}/`);
  const status = await page.evaluate(
    async ({ username, password }) =>
      (await fetch('/api/session', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username, password }) })).status,
    { username: account.username, password: account.password },
  );
  assert.equal(status, 200);
  await page.goto(`${box.origin}${pathname}`);
  return { context, page };
}

/** GET /api/… requests a page makes from now on. */
function countGets(page) {
  const gets = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (r.method() === 'GET' && u.pathname.startsWith('/api/') && !u.pathname.endsWith('/events')) gets.push(u.pathname);
  });
  return gets;
}

/** `phonghop_api_requests_total{family,method="GET"}` summed over the families that matter. */
async function apiGets(box) {
  const res = await box.request('GET', '/metrics');
  let n = 0;
  for (const line of res.text.split('\n')) {
    const m = /^phonghop_api_requests_total\{family="(\w+)",method="GET"\} (\d+)$/.exec(line);
    if (m) n += Number(m[2]);
  }
  return n;
}

describe('screens apply live events', () => {
  let box;
  let chrome;
  let desk;
  const people = {};
  let meeting;
  let firstItem;

  before(async () => {
    box = await Box.create({ room: 'Phòng họp UBND xã Tân Phú' });
    await addStaff(box, [
      { ...SECRETARY, role: 'secretary' },
      { ...CHAIR, role: 'chair' },
    ]);
    chrome = await launchChromium(box.caPem);
    desk = await signIn(box, SECRETARY);
    for (const [key, name] of [
      ['an', 'Nguyễn Văn An'],
      ['binh', 'Trần Thị Bình'],
      ['cuong', 'Lê Văn Cường'],
      ['dung', 'Phạm Thị Dung'],
    ]) {
      people[key] = await desk('POST', '/api/people', { name, position: 'Ủy viên UBND' });
    }
    const body = await desk('POST', '/api/bodies', { name: 'UBND xã Tân Phú', kind: 'ubnd' });
    await desk('PUT', `/api/bodies/${body.id}/members`, { members: Object.values(people).map((p) => p.id) });
    const startsAt = new Date(Date.now() + 30 * 60_000);
    startsAt.setUTCSeconds(0, 0);
    meeting = await desk('POST', '/api/meetings', {
      body_id: body.id,
      title: 'Phiên họp thường kỳ tháng 11',
      starts_at: startsAt.toISOString().replace('.000Z', 'Z'),
      chair_id: people.an.id,
    });
    await desk('PUT', '/api/room/layout', {
      shape: 'rows',
      seats: ['CT', 'A1', 'A2', 'A3', 'A4'].map((id, i) => ({ id, label: id, x: 100 + i * 150, y: i === 0 ? 150 : 450 })),
    });
    await desk('PUT', `/api/meetings/${meeting.id}/seats`, { assignments: { CT: people.an.id, A1: people.binh.id, A2: people.cuong.id, A3: people.dung.id } });
    firstItem = await desk('POST', `/api/meetings/${meeting.id}/items`, { title: 'Báo cáo kinh tế - xã hội', presenter: 'Văn phòng' });
    const chair = await signIn(box, CHAIR);
    await desk('POST', `/api/meetings/${meeting.id}/submit`);
    await chair('POST', `/api/meetings/${meeting.id}/approve`);
    await desk('POST', `/api/meetings/${meeting.id}/publish`);
  });

  after(async () => {
    await chrome?.close();
    await box?.destroy();
  });

  async function pairedTablet(person, pin) {
    const context = await newTablet(chrome.browser);
    const page = await context.newPage();
    const { code } = await desk('POST', `/api/people/${person.id}/pairing-code`);
    await page.goto(`${box.origin}/pair?code=${code}`);
    await page.getByTestId('pin').fill(pin);
    await page.getByTestId('pair-submit').click();
    await page.getByTestId('confirm-pin').fill(pin);
    await page.getByTestId('confirm-submit').click();
    await page.waitForURL(`${box.origin}/meetings`);
    await page.goto(`${box.origin}/meetings/${meeting.id}`);
    await page.getByTestId('checkin-button').waitFor();
    await page.getByTestId('delegate-item').first().waitFor();
    return { context, page };
  }

  test('a check-in, a mark, an agenda item, seats and a new time cost no GET on any screen', { timeout: 180_000 }, async () => {
    const tablets = [];
    const staff = [];
    try {
      for (const [key, pin] of [
        ['binh', '2580'],
        ['cuong', '1357'],
        ['dung', '2468'],
      ]) {
        tablets.push({ key, ...(await pairedTablet(people[key], pin)) });
      }
      const console_ = await staffPage(chrome.browser, box, CHAIR, `/chair/meetings/${meeting.id}`);
      await console_.page.getByTestId('chair-count-present').waitFor();
      const attendanceDesk = await staffPage(chrome.browser, box, SECRETARY, `/desk/meetings/${meeting.id}/attendance`);
      const prepare = await staffPage(chrome.browser, box, SECRETARY, `/desk/meetings/${meeting.id}/prepare`);
      await prepare.page.getByTestId('agenda').waitFor();
      await attendanceDesk.page.getByTestId('attendance-rows').waitFor();
      staff.push(console_, attendanceDesk, prepare);
      // Let every feed open and every first read finish.
      await sleep(1_500);

      const pages = [...tablets.map((t) => t.page), console_.page, attendanceDesk.page];
      const gets = pages.map(countGets);
      const prepareGets = countGets(prepare.page);
      const before = await apiGets(box);

      // 1. Bình taps "Tôi có mặt" on her tablet.
      const binh = tablets[0].page;
      await binh.getByTestId('checkin-button').click();
      await binh.getByTestId('checked-in').waitFor();
      await waitForText(console_.page.locator('[data-testid="chair-count-present"] .c-n'), '1');
      await waitForText(attendanceDesk.page.getByTestId('count-present'), /1/);
      await tablets[1].page.waitForFunction(() => document.querySelector('[data-seat="A1"]')?.getAttribute('data-state') === 'present');

      // 2. The secretary marks Cường present at the desk (as another desk would).
      await desk('PUT', `/api/meetings/${meeting.id}/attendance/${people.cuong.id}`, { status: 'present' });
      await tablets[1].page.getByTestId('checked-in').waitFor();
      await waitForText(console_.page.locator('[data-testid="chair-count-present"] .c-n'), '2');

      // 3. A new agenda item after publishing.
      await desk('POST', `/api/meetings/${meeting.id}/items`, { title: 'Tờ trình bổ sung kinh phí', presenter: 'Kế toán' });
      for (const t of tablets) await t.page.locator('[data-testid="delegate-item"]', { hasText: 'Tờ trình bổ sung kinh phí' }).waitFor();
      // Added after publishing: every tablet marks it "Đã cập nhật", and only it.
      for (const t of tablets) {
        await t.page.locator('[data-testid="delegate-item"]', { hasText: 'Tờ trình bổ sung kinh phí' }).getByTestId('item-updated-badge').waitFor();
        await waitForCount(t.page.getByTestId('item-updated-badge'), 1);
      }
      await prepare.page.getByTestId('agenda-item').filter({ hasText: 'Tờ trình bổ sung kinh phí' }).waitFor();
      assert.deepEqual(prepareGets, [], 'the preparation screen applied the new item itself');

      // 4. Dung moves to A4.
      await desk('PUT', `/api/meetings/${meeting.id}/seats`, { assignments: { CT: people.an.id, A1: people.binh.id, A2: people.cuong.id, A4: people.dung.id } });
      await waitForText(tablets[2].page.getByTestId('my-seat-label'), 'Ghế A4');

      // 5. The meeting moves an hour later, sent with Vietnam's offset.
      const later = new Date(Date.parse(meeting.starts_at) + 3_600_000);
      const local = new Date(later.getTime() + 7 * 3_600_000).toISOString().replace(/\.000Z$/, '+07:00');
      await desk('PUT', `/api/meetings/${meeting.id}`, { title: 'Phiên họp thường kỳ tháng 11 (dời giờ)', starts_at: local, place: 'Hội trường', chair_id: people.an.id });
      for (const t of tablets) await waitForText(t.page.getByTestId('meeting-title'), 'Phiên họp thường kỳ tháng 11 (dời giờ)');
      for (const t of tablets) {
        assert.equal(await t.page.locator('.when time').getAttribute('datetime'), later.toISOString().replace('.000Z', 'Z'));
        // A new time and place after publishing are marked for the delegate to notice.
        await t.page.getByTestId('time-updated').waitFor();
        await t.page.getByTestId('place-updated').waitFor();
      }

      // 6. A document for everyone, uploaded after publishing, then restricted to Cường only:
      // it appears on every tablet, then leaves Bình's and Dung's, and stays on Cường's.
      const doc = await upload(box, desk.cookie, `/api/meetings/${meeting.id}/items/${firstItem.id}/documents?title=${encodeURIComponent('Giấy mời họp bổ sung')}`, 'giay-moi-hop.pdf');
      for (const t of tablets) await t.page.getByTestId('delegate-doc').filter({ hasText: 'Giấy mời họp bổ sung' }).waitFor();
      await desk('PUT', `/api/documents/${doc.id}`, { title: 'Giấy mời họp (riêng)', restricted_to: [people.cuong.id] });
      await tablets[1].page.getByTestId('delegate-doc').filter({ hasText: 'Giấy mời họp (riêng)' }).waitFor();
      for (const t of [tablets[0], tablets[2]]) {
        await t.page.waitForFunction(() => ![...document.querySelectorAll('[data-testid="delegate-doc"]')].some((el) => el.textContent.includes('Giấy mời họp')));
      }

      await sleep(1_000); // anything late would show now
      pages.forEach((p, i) => assert.deepEqual(gets[i], [], `page ${i} fetched after a live change`));
      // The preparation screen reads the meeting once for the new time: only the box computes
      // its "published too late" warning. Nothing else was read.
      assert.deepEqual(prepareGets, [`/api/meetings/${meeting.id}`]);
      assert.equal(await apiGets(box), before + prepareGets.length, 'the box counted no other API GET');
    } finally {
      for (const t of [...tablets, ...staff]) await t.context.close();
    }
  });

  test('a reconnect replays what was missed without a fetch', { timeout: 120_000 }, async () => {
    const chairTab = await staffPage(chrome.browser, box, CHAIR, `/chair/meetings/${meeting.id}`);
    try {
      const page = chairTab.page;
      await page.getByTestId('chair-count-present').waitFor();
      await sleep(1_000);
      const gets = countGets(page);
      // The link drops; meanwhile Dung is marked present; then the link comes back.
      await page.context().setOffline(true);
      await page.evaluate(() => window.dispatchEvent(new Event('offline')));
      await desk('PUT', `/api/meetings/${meeting.id}/attendance/${people.dung.id}`, { status: 'late' });
      await sleep(500);
      await page.context().setOffline(false);
      await waitForText(page.locator('[data-testid="chair-count-late"] .c-n'), '1', { timeout: 20_000 });
      // (The room's own feed reads /api/room again when it reopens; the meeting's data is not read.)
      assert.deepEqual(gets.filter((g) => g !== '/api/room'), [], 'caught up from the feed, not by fetching');
    } finally {
      await chairTab.context.close();
    }
  });

  test("the chair's own tablet, revoked while on the console, says so (one client reports it)", { timeout: 120_000 }, async () => {
    const context = await newTablet(chrome.browser);
    try {
      const page = await context.newPage();
      const { code } = await desk('POST', `/api/people/${people.an.id}/pairing-code`);
      await page.goto(`${box.origin}/pair?code=${code}`);
      await page.getByTestId('pin').fill('9753');
      await page.getByTestId('pair-submit').click();
      await page.getByTestId('confirm-pin').fill('9753');
      await page.getByTestId('confirm-submit').click();
      await page.waitForURL(`${box.origin}/meetings`);
      await page.goto(`${box.origin}/chair/meetings/${meeting.id}`);
      await page.getByTestId('chair-count-present').waitFor();
      const { devices } = await desk('GET', `/api/people/${people.an.id}/devices`);
      await desk('DELETE', `/api/devices/${devices[0].id}`);
      // The console's feed ends; the screen learns why and says so, without a reload.
      await page.getByTestId('device-revoked').waitFor({ timeout: 20_000 });
      // Opened afresh, the staff screens' calls report it too.
      await page.goto(`${box.origin}/chair/meetings/${meeting.id}`);
      await page.getByTestId('device-revoked').waitFor({ timeout: 20_000 });
    } finally {
      await context.close();
    }
  });
});
