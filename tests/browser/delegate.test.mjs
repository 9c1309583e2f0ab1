// The delegate's tablet against the real box, in a real Chromium trusting the box's CA: pairing
// with the secretary's code and a PIN (a non-extractable WebCrypto key kept in IndexedDB),
// staying paired across reloads, one-tap check-in, a wrong PIN on a second tablet, leave of
// absence, a guest's label, my seat highlighted on the map, a document the secretary uploads
// appearing on the open meeting page (one restricted to someone else never does), and the calm
// screen after the secretary revokes the tablet.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import path from 'node:path';
import { Box, REPO, addStaff, launchChromium, newTablet, screenshots, waitForText, withBoxLog, waitForCount } from './helpers.mjs';

const ROOM = 'Phòng họp UBND xã Tân Phú';
const FIXTURES = path.join(REPO, 'tests', 'fixtures');
const SECRETARY = { username: 'thuky', name: 'Trần Thị Thu', password: 'thuky-demo' };
const CHAIR = { username: 'chutich', name: 'Nguyễn Văn An', password: 'chutich-demo' };


/** The secretary at her desk, driving the API the way the desk screens do. */
class Desk {
  constructor(box, cookie) {
    this.box = box;
    this.cookie = cookie;
  }

  static async signIn(box, { username, password }) {
    const res = await box.request('POST', '/api/session', { json: { username, password }, headers: { Origin: box.origin } });
    assert.equal(res.status, 200, `sign in as ${username}: ${res.text}`);
    const cookie = [].concat(res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).find((c) => c.startsWith('phonghop_session='));
    assert.ok(cookie, 'a session cookie');
    return new Desk(box, cookie);
  }

  async call(method, pathname, json) {
    const res = await this.box.request(method, pathname, { json, headers: { Cookie: this.cookie, Origin: this.box.origin } });
    assert.ok(res.status >= 200 && res.status < 300, `${method} ${pathname} → ${res.status} ${res.text}`);
    return res.json;
  }
}

/** A browser context signed in as staff, through the same call the sign-in screen makes. */
async function staffContext(browser, box, account) {
  const context = await newTablet(browser);
  const page = await context.newPage();
  await page.goto(`${box.origin}/`);
  const status = await page.evaluate(
    async ({ username, password }) =>
      (await fetch('/api/session', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username, password }) })).status,
    { username: account.username, password: account.password },
  );
  assert.equal(status, 200, `sign in as ${account.username}`);
  await page.close();
  return context;
}

/** What IndexedDB holds for this device's key, as seen from the page. */
function storedKey(page) {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('phonghop-device');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const get = open.result.transaction('keys').objectStore('keys').get('device');
          get.onerror = () => reject(get.error);
          get.onsuccess = () => {
            const v = get.result;
            resolve(
              v && {
                isCryptoKey: v.privateKey instanceof CryptoKey,
                extractable: v.privateKey.extractable,
                type: v.privateKey.type,
                algorithm: v.privateKey.algorithm,
                usages: v.privateKey.usages,
                publicType: v.publicKey?.type,
              },
            );
          };
        };
      }),
  );
}

const textOf = async (locator) => (await locator.innerText()).replace(/\u00a0/g, ' ').trim();

describe('delegate tablet', () => {
  /** @type {Box} */
  let box;
  let chrome;
  let desk;
  const people = {};
  let meeting;

  before(async () => {
    box = await Box.create({ room: ROOM });
    await addStaff(box, [
      { ...SECRETARY, role: 'secretary' },
      { ...CHAIR, role: 'chair' },
    ]);
    chrome = await launchChromium(box.caPem);
    desk = await Desk.signIn(box, SECRETARY);
    for (const [key, name] of [
      ['an', 'Nguyễn Văn An'],
      ['binh', 'Trần Thị Bình'],
      ['cuong', 'Lê Văn Cường'],
      ['khach', 'Phạm Minh Khách'],
    ]) {
      people[key] = await desk.call('POST', '/api/people', { name, position: 'Ủy viên UBND' });
    }
    const body = await desk.call('POST', '/api/bodies', { name: 'UBND xã Tân Phú', kind: 'ubnd' });
    await desk.call('PUT', `/api/bodies/${body.id}/members`, { members: [people.an.id, people.binh.id, people.cuong.id] });
    // Later today, so the meeting is "today" and check-in is on time.
    const startsAt = new Date(Date.now() + 30 * 60_000);
    startsAt.setUTCSeconds(0, 0);
    meeting = await desk.call('POST', '/api/meetings', {
      body_id: body.id,
      title: 'Phiên họp thường kỳ tháng 11',
      place: 'Hội trường UBND xã',
      starts_at: startsAt.toISOString().replace('.000Z', 'Z'),
      chair_id: people.an.id,
      guests: [people.khach.id],
    });
    await desk.call('PUT', '/api/room/layout', {
      shape: 'rows',
      seats: [
        { id: 'CT', label: 'Chủ tọa', x: 500, y: 200 },
        { id: 'A1', label: 'A1', x: 200, y: 400 },
        { id: 'A2', label: 'A2', x: 400, y: 400 },
        { id: 'A3', label: 'A3', x: 600, y: 400 },
        { id: 'B1', label: 'B1', x: 200, y: 650 },
      ],
    });
    await desk.call('PUT', `/api/meetings/${meeting.id}/seats`, {
      assignments: { CT: people.an.id, A2: people.binh.id, A3: people.cuong.id, B1: people.khach.id },
    });
    // Delegates see a meeting once it is published: submitted, approved by the chair, published.
    const chair = await Desk.signIn(box, CHAIR);
    await desk.call('POST', `/api/meetings/${meeting.id}/submit`);
    await chair.call('POST', `/api/meetings/${meeting.id}/approve`);
    await desk.call('POST', `/api/meetings/${meeting.id}/publish`);
  });

  after(async () => {
    await chrome?.close();
    await box?.destroy();
  });

  /** Opens the secretary's QR link on a tablet and pairs with `pin`; a first pairing confirms it. */
  async function pairTablet(page, person, pin) {
    const { code, url } = await desk.call('POST', `/api/people/${person.id}/pairing-code`);
    assert.match(code, /^\d{6}$/);
    // The link carries the long form: the typed code and 16 digits only the box can make.
    const linked = new URL(url).searchParams.get('code');
    assert.match(linked, /^\d{22}$/);
    assert.equal(linked.slice(0, 6), code);
    await page.goto(`${box.origin}/pair?code=${linked}`);
    await page.getByTestId('pin').fill(pin);
    await page.getByTestId('pair-submit').click();
    return code;
  }

  test('pairs with the QR code and a PIN, keeps a non-extractable key, stays paired, checks in', { timeout: 120_000 }, () =>
    withBoxLog(box, async () => {
      const context = await newTablet(chrome.browser);
      // The secretary's desk is open while the tablet pairs: the pairing shows there at once.
      const deskContext = await staffContext(chrome.browser, box, SECRETARY);
      try {
        const deskPage = await deskContext.newPage();
        await deskPage.goto(`${box.origin}/desk`);
        await deskPage.getByTestId('desk-tiles').waitFor();
        const page = await context.newPage();
        const problems = [];
        page.on('pageerror', (e) => problems.push(String(e)));

        const { code, url } = await desk.call('POST', `/api/people/${people.binh.id}/pairing-code`);
        await page.goto(`${box.origin}/pair?code=${new URL(url).searchParams.get('code')}`);
        // The QR link fills the code: straight to the PIN.
        await waitForText(page.getByTestId('code-shown'), `Mã ghép nối: ${code}`);
        const pin = page.getByTestId('pin');
        assert.equal(await pin.getAttribute('inputmode'), 'numeric');
        await screenshots(page, 'delegate-1-pin');
        await pin.fill('2580');
        const submit = page.getByTestId('pair-submit');
        const size = await submit.boundingBox();
        assert.ok(size && size.height >= 56, `the pair button is a 56 px target: ${JSON.stringify(size)}`);
        await submit.click();

        // A first pairing sets the PIN: the person's name, then the PIN once more.
        await waitForText(page.getByTestId('paired-name'), 'Trần Thị Bình');
        await screenshots(page, 'delegate-2-confirm-pin');
        await waitForText(deskPage.getByTestId('pairing-notice'), /vừa được ghép nối cho Trần Thị Bình lúc/);
        await deskPage.getByTestId('pairing-notice').getByRole('link', { name: 'Mở hồ sơ Trần Thị Bình' }).waitFor();
        await page.getByTestId('confirm-pin').fill('2580');
        await page.getByTestId('confirm-submit').click();
        await page.waitForURL(`${box.origin}/meetings`);
        await waitForText(page.getByTestId('paired-name'), 'Trần Thị Bình');
        await waitForText(page.getByTestId('meeting-card'), /Phiên họp thường kỳ tháng 11/);
        await screenshots(page, 'delegate-3-my-meetings');

        const key = await storedKey(page);
        assert.ok(key, 'IndexedDB holds the device key');
        assert.equal(key.isCryptoKey, true);
        assert.equal(key.extractable, false, 'the private key must be non-extractable');
        assert.equal(key.type, 'private');
        assert.deepEqual(key.algorithm, { name: 'ECDSA', namedCurve: 'P-256' });
        assert.deepEqual(key.usages, ['sign']);
        assert.equal(key.publicType, 'public');

        // The box knows this tablet by its key and label.
        const devices = await desk.call('GET', `/api/people/${people.binh.id}/devices`);
        assert.equal(devices.devices.length, 1);
        assert.equal(devices.devices[0].label, 'Máy tính Linux');

        // A reload keeps it paired.
        await page.reload();
        const me = await page.evaluate(() => fetch('/api/me').then((r) => r.json()));
        assert.equal(me.kind, 'device');
        assert.equal(me.person.name, 'Trần Thị Bình');
        await waitForText(page.getByTestId('person-name'), 'Trần Thị Bình');
        assert.equal(await page.getByTestId('paired-banner').count(), 0, 'the greeting shows once, right after pairing');

        // The landing page says whose tablet it is.
        await page.goto(`${box.origin}/`);
        await waitForText(page.getByTestId('person-name'), 'Trần Thị Bình');
        await screenshots(page, 'delegate-4-landing-paired');
        await page.getByTestId('my-meetings').click();

        await page.getByTestId('meeting-card').click();
        await page.waitForURL(`${box.origin}/meetings/${meeting.id}`);
        await waitForText(page.getByTestId('meeting-title'), 'Phiên họp thường kỳ tháng 11');
        await waitForText(page.getByTestId('my-role'), 'Đại biểu');
        await waitForText(page.getByTestId('meeting-place'), 'Hội trường UBND xã');
        await waitForText(page.getByTestId('my-seat-label'), 'Ghế A2');
        // My seat stands out on the read-only live map: the map's `highlight` marks exactly one
        // seat, mine, with a ring and the words "Chỗ của bạn" over it.
        const map = page.locator('[data-testid="seating-map"][data-mode="live"]');
        const mySeat = map.locator('[data-seat="A2"]');
        await map.locator('[data-seat="A2"][data-mine]').waitFor();
        await waitForCount(page.locator('[data-mine]'), 1, { message: 'one seat is marked as mine' });
        assert.equal(await page.locator('[data-my-seat]').getAttribute('data-my-seat'), 'A2');
        const ring = map.getByTestId('seat-highlight');
        await waitForCount(ring, 1, { message: 'one highlight ring' });
        assert.equal((await ring.textContent()).trim(), 'Chỗ của bạn');
        assert.equal(await ring.getAttribute('transform'), await mySeat.getAttribute('transform'), 'the ring is on my seat');
        assert.match(await mySeat.getAttribute('aria-label'), /^Ghế A2 \(Chỗ của bạn\)/);
        await waitForCount(map.locator('[data-seat][aria-label*="(Chỗ của bạn)"]'), 1, { message: 'no other seat is called mine' });
        const checkIn = page.getByTestId('checkin-button');
        await waitForText(checkIn, /ĐIỂM DANH\s+Tôi có mặt/);
        const big = await checkIn.boundingBox();
        assert.ok(big && big.height >= 120, `check-in is huge: ${JSON.stringify(big)}`);
        await screenshots(page, 'delegate-5-meeting');

        await checkIn.click();
        await waitForText(page.getByTestId('checked-in'), /^Đã điểm danh lúc\s\d{2}:\d{2}$/);
        assert.equal(await page.getByTestId('checkin-button').count(), 0);
        // My seat on the map turns "present" too.
        await page.waitForFunction(() => document.querySelector('[data-seat="A2"]')?.getAttribute('data-state') === 'present');
        assert.equal(await page.getByTestId('absence-button').count(), 0, 'no leave of absence after check-in');
        const sheet = await desk.call('GET', `/api/meetings/${meeting.id}/attendance`);
        const row = sheet.rows.find((r) => r.person.id === people.binh.id);
        assert.equal(row.status, 'present');
        // The time shown is the box's, in Vietnam's time.
        const hhmm = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hour12: false, timeZone: 'Asia/Ho_Chi_Minh' }).format(new Date(row.at));
        assert.equal(await textOf(page.getByTestId('checked-in-text')), `Đã điểm danh lúc ${hhmm}`);
        await screenshots(page, 'delegate-6-checked-in');

        // Still checked in after a reload.
        await page.reload();
        await waitForText(page.getByTestId('checked-in'), /^Đã điểm danh lúc\s\d{2}:\d{2}$/);

        // English, for those who want it.
        await page.getByRole('button', { name: 'English' }).click();
        await waitForText(page.getByTestId('checked-in'), /^Checked in at\s\d{2}:\d{2}$/);
        await page.getByRole('button', { name: 'Tiếng Việt' }).click();
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
        await deskContext.close();
      }
    }));

  test('a wrong PIN on a second tablet says so in Vietnamese', { timeout: 60_000 }, () =>
    withBoxLog(box, async () => {
      const context = await newTablet(chrome.browser);
      try {
        const page = await context.newPage();
        await pairTablet(page, people.binh, '1357');
        await waitForText(page.getByTestId('pair-error'), 'Mã PIN không đúng. Hãy nhập lại.');
        assert.equal(await page.getByTestId('pin').inputValue(), '', 'the wrong PIN is cleared');
        await screenshots(page, 'delegate-7-wrong-pin');
        const me = await page.evaluate(() => fetch('/api/me').then((r) => r.json()));
        assert.equal(me.kind, 'anonymous');

        // A weak PIN for someone who has none yet is explained.
        const other = await context.browser().newContext({ viewport: { width: 390, height: 844 }, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
        try {
          const phone = await other.newPage();
          await pairTablet(phone, people.cuong, '1234');
          await waitForText(phone.getByTestId('pair-error'), /quá dễ đoán/);
          await phone.getByTestId('pin').fill('8642');
          await phone.getByTestId('pair-submit').click();
          await phone.getByTestId('confirm-pin').fill('8642');
          await phone.getByTestId('confirm-submit').click();
          await phone.waitForURL(`${box.origin}/meetings`);
          // A code typed by hand, digit by digit, pairs again (same PIN, no confirmation) ...
          const { code } = await desk.call('POST', `/api/people/${people.cuong.id}/pairing-code`);
          await phone.goto(`${box.origin}/pair`);
          await phone.getByTestId('code-digit').first().click();
          await phone.keyboard.type(code);
          await phone.getByTestId('pin').fill('8642');
          await phone.getByTestId('pair-submit').click();
          await phone.waitForURL(`${box.origin}/meetings`);
          // ... and the same code a second time is refused: one answer for unknown, expired or used.
          await phone.goto(`${box.origin}/pair`);
          await phone.getByTestId('code-digit').first().click();
          await phone.keyboard.type(code);
          await phone.getByTestId('pin').fill('8642');
          await phone.getByTestId('pair-submit').click();
          await waitForText(phone.getByTestId('pair-error'), /^Mã ghép nối không đúng, đã hết hạn hoặc đã được dùng/);
          assert.equal(await phone.getByTestId('code-digit').first().isVisible(), true, 'back to the code');
          await screenshots(phone, 'delegate-8-code-used');
        } finally {
          await other.close();
        }
      } finally {
        await context.close();
      }
    }));

  test('a delegate sends a leave of absence; a guest is labelled as a guest', { timeout: 60_000 }, () =>
    withBoxLog(box, async () => {
      const context = await newTablet(chrome.browser);
      try {
        const page = await context.newPage();
        await pairTablet(page, people.an, '2468');
        await page.getByTestId('confirm-pin').fill('2468');
        await page.getByTestId('confirm-submit').click();
        await page.getByTestId('meeting-card').click();
        await waitForText(page.getByTestId('my-role'), 'Chủ trì');
        await page.getByTestId('absence-button').click();
        await page.getByTestId('absence-confirm').click();
        await waitForText(page.getByRole('alert'), 'Hãy ghi lý do vắng.');
        await page.getByLabel('Lý do vắng').fill('Đi công tác huyện');
        await screenshots(page, 'delegate-9-absence');
        await page.getByTestId('absence-confirm').click();
        await waitForText(page.getByTestId('excused'), /^Bạn đã báo vắng\s+Lý do: Đi công tác huyện/);
        const sheet = await desk.call('GET', `/api/meetings/${meeting.id}/attendance`);
        assert.equal(sheet.rows.find((r) => r.person.id === people.an.id).status, 'excused');
        await screenshots(page, 'delegate-10-excused');

        // He comes after all and the secretary marks him present: the tablet follows live.
        await page.evaluate(() => {
          window.__samePage = true;
        });
        await desk.call('PUT', `/api/meetings/${meeting.id}/attendance/${people.an.id}`, { status: 'present' });
        await waitForText(page.getByTestId('checked-in'), /^Đã điểm danh lúc\s\d{2}:\d{2}$/);
        assert.equal(await page.evaluate(() => window.__samePage), true, 'no reload');
      } finally {
        await context.close();
      }

      const guestContext = await newTablet(chrome.browser);
      try {
        const page = await guestContext.newPage();
        await pairTablet(page, people.khach, '7391');
        await page.getByTestId('confirm-pin').fill('7391');
        await page.getByTestId('confirm-submit').click();
        await waitForText(page.getByTestId('meeting-card'), /Khách mời/);
        await page.getByTestId('meeting-card').click();
        await waitForText(page.getByTestId('my-role'), 'Khách mời');
        await waitForText(page.getByTestId('my-seat-label'), 'Ghế B1');
        await page.getByTestId('checkin-button').click();
        await waitForText(page.getByTestId('checked-in'), /^Đã điểm danh lúc\s\d{2}:\d{2}$/);
        await screenshots(page, 'delegate-11-guest');
      } finally {
        await guestContext.close();
      }
    }));

  test('the open meeting page shows a document the secretary uploads, without reload; one restricted to others never shows', { timeout: 120_000 }, () =>
    withBoxLog(box, async () => {
      const item = await desk.call('POST', `/api/meetings/${meeting.id}/items`, { title: 'Tờ trình phân bổ kinh phí', presenter: 'Công chức Tài chính - Kế toán' });
      const tablet = await newTablet(chrome.browser);
      const deskContext = await staffContext(chrome.browser, box, SECRETARY);
      try {
        // Trần Thị Bình's meeting page is open on her tablet.
        const page = await tablet.newPage();
        const problems = [];
        page.on('pageerror', (e) => problems.push(String(e)));
        await pairTablet(page, people.binh, '2580');
        await page.waitForURL(`${box.origin}/meetings`);
        await page.goto(`${box.origin}/meetings/${meeting.id}`);
        await page.getByTestId('meeting-documents').waitFor();
        await page.locator('[data-testid="delegate-item"]', { hasText: 'Tờ trình phân bổ kinh phí' }).waitFor();
        // Every document title the page shows, even for a moment.
        await page.evaluate(() => {
          window.__samePage = true;
          window.__seen = new Set();
          const note = () => {
            for (const el of document.querySelectorAll('[data-testid="delegate-doc"]')) window.__seen.add(el.textContent.replace(/\s+/g, ' ').trim());
          };
          new MutationObserver(note).observe(document.body, { subtree: true, childList: true, characterData: true });
          note();
        });

        // The secretary, at her desk, uploads a document for Lê Văn Cường only, then one for all.
        const deskPage = await deskContext.newPage();
        const writes = [];
        deskPage.on('request', (r) => {
          if (r.method() !== 'GET' && r.url().includes('/api/')) writes.push(`${r.method()} ${new URL(r.url()).pathname}${new URL(r.url()).search}`);
        });
        await deskPage.goto(`${box.origin}/desk/meetings/${meeting.id}/prepare`);
        await waitForText(deskPage.getByTestId('meeting-status'), /Đã phát hành/);
        const row = deskPage.getByTestId('agenda-item').filter({ hasText: 'Tờ trình phân bổ kinh phí' });
        await row.getByTestId('item-upload').click();
        const form = deskPage.getByTestId('upload-form');
        await form.getByTestId('upload-file').setInputFiles(path.join(FIXTURES, 'to-trinh-du-toan.pdf'));
        await form.getByTestId('upload-title').fill('Tờ trình mật');
        await form.getByTestId('upload-access-some').check();
        await form.getByTestId('upload-submit').click();
        await waitForText(form.getByTestId('upload-access-error'), 'Hãy chọn ít nhất một người.');
        assert.deepEqual(writes, [], 'nothing is sent without anyone chosen');
        await form.getByLabel(/Lê Văn Cường/).check();
        await form.getByTestId('upload-submit').click();
        await waitForText(deskPage.getByTestId('prep-notice'), 'Đã tải lên "Tờ trình mật".', { timeout: 30_000 });
        await waitForText(row.getByTestId('doc-access').first(), 'Chỉ 1 người được xem');

        await row.getByTestId('item-upload').click();
        await form.getByTestId('upload-file').setInputFiles(path.join(FIXTURES, 'giay-moi-hop.pdf'));
        await form.getByTestId('upload-title').fill('Giấy mời họp bổ sung');
        await form.getByTestId('upload-submit').click();
        await waitForText(deskPage.getByTestId('prep-notice'), 'Đã tải lên "Giấy mời họp bổ sung".', { timeout: 30_000 });

        // One request each, the audience in the upload itself: no follow-up PUT.
        assert.equal(writes.length, 2, writes.join('\n'));
        assert.match(writes[0], new RegExp(`^POST /api/meetings/${meeting.id}/items/${item.id}/documents\\?.*restricted_to=${people.cuong.id}(&|$)`));
        assert.doesNotMatch(writes[1], /restricted_to/);
        const docs = (await desk.call('GET', `/api/meetings/${meeting.id}`)).documents;
        assert.deepEqual(docs.find((d) => d.title === 'Tờ trình mật').restricted_to, [people.cuong.id]);
        assert.equal(docs.find((d) => d.title === 'Giấy mời họp bổ sung').restricted_to, null);

        // The tablet shows the new document without a reload, and never showed the other one.
        await page.getByTestId('delegate-doc').filter({ hasText: 'Giấy mời họp bổ sung' }).waitFor({ timeout: 10_000 });
        assert.equal(await page.evaluate(() => window.__samePage), true, 'no reload');
        const seen = await page.evaluate(() => [...window.__seen]);
        assert.ok(!seen.some((t) => t.includes('Tờ trình mật')), `the restricted document never showed: ${JSON.stringify(seen)}`);
        assert.equal(await page.getByTestId('delegate-doc').filter({ hasText: 'Tờ trình mật' }).count(), 0);
        await screenshots(page, 'delegate-12a-document-live');
        assert.deepEqual(problems, []);
      } finally {
        await tablet.close();
        await deskContext.close();
      }
    }));

  test('after the secretary revokes the tablet, it says so calmly and offers to pair again', { timeout: 60_000 }, () =>
    withBoxLog(box, async () => {
      const context = await newTablet(chrome.browser);
      try {
        const page = await context.newPage();
        await pairTablet(page, people.binh, '2580');
        await page.waitForURL(`${box.origin}/meetings`);
        await page.getByTestId('meeting-card').click();
        await page.getByTestId('checked-in').waitFor();

        const { devices } = await desk.call('GET', `/api/people/${people.binh.id}/devices`);
        const me = await page.evaluate(() => fetch('/api/me').then((r) => r.json()));
        const mine = devices.find((d) => d.id === me.device.id);
        assert.ok(mine && !mine.revoked_at);
        const res = await box.request('DELETE', `/api/devices/${mine.id}`, { headers: { Cookie: desk.cookie, Origin: box.origin } });
        assert.equal(res.status, 204, res.text);

        await page.reload();
        const screen = page.getByTestId('device-revoked');
        await waitForText(screen, /Máy này đã bị thu hồi\.\s+Vui lòng liên hệ thư ký\./);
        await screenshots(page, 'delegate-12-revoked');
        await page.getByTestId('pair-again').click();
        await page.waitForURL(`${box.origin}/pair`);
        assert.equal(await screen.count(), 0);
        assert.equal(await storedKey(page), undefined, 'the old key is gone');
        await page.getByTestId('code-digit').first().waitFor();
      } finally {
        await context.close();
      }
    }));
});
