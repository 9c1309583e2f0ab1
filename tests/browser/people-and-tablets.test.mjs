// The "People and tablets" issue end to end, against the real box in a real Chromium:
// (1) the secretary imports 30 people from an Excel file at her desk, makes a body with them and
//     a meeting with a seating layout and assignments;
// (2) a delegate pairs a tablet with the code and a PIN, and checks in;
// (3) the quorum on the chair's console goes up live, without a reload;
// (4) that delegate's seat turns "present" on the chair's live map.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BIN, Box, REPO, launchChromium, newTablet, screenshots, waitForText, withBoxLog } from './helpers.mjs';

const ROOM = 'Phòng họp UBND xã Tân Phú';
const FIXTURE = path.join(REPO, 'tests', 'fixtures', 'thanh-vien-30.xlsx');
const GARBLED = path.join(REPO, 'tests', 'fixtures', 'thanh-vien-mat-dau.csv');
const SECRETARY = { username: 'thuky', name: 'Trần Thị Thu', password: 'thuky-demo', role: 'secretary' };
const CHAIR = { username: 'chutich', name: 'Nguyễn Văn Hùng', password: 'chutich-demo', role: 'chair' };
const BODY = 'UBND xã Tân Phú';
const DELEGATE = 'Trần Thị Mai';


/** A staff session from the API, for Node calls and for a browser context's cookie jar. */
async function signIn(box, { username, password }) {
  const res = await box.request('POST', '/api/session', { json: { username, password }, headers: { Origin: box.origin } });
  assert.equal(res.status, 200, `sign in as ${username}: ${res.text}`);
  const pair = [].concat(res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).find((c) => c.startsWith('phonghop_session='));
  assert.ok(pair, 'a session cookie');
  const call = async (method, pathname, json) => {
    const r = await box.request(method, pathname, { json, headers: { Cookie: pair, Origin: box.origin } });
    assert.ok(r.status >= 200 && r.status < 300, `${method} ${pathname} → ${r.status} ${r.text}`);
    return r.json;
  };
  return { cookie: pair, call };
}

/** A browser context already signed in with that session (the sign-in screen is not under test here). */
async function staffContext(browser, box, session, viewport) {
  const context = await browser.newContext({ viewport, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
  const [name, value] = session.cookie.split('=');
  await context.addCookies([{ name, value, domain: 'localhost', path: '/', httpOnly: true, secure: true, sameSite: 'Strict' }]);
  return context;
}

describe('people and tablets, end to end', () => {
  /** @type {Box} */
  let box;
  let chrome;

  before(async () => {
    box = await Box.create({ room: ROOM });
    // Staff accounts are made with the CLI while the box is stopped.
    await box.stop();
    for (const a of [SECRETARY, CHAIR]) {
      execFileSync(BIN, ['admin', 'create', '--data', box.dataDir, '--username', a.username, '--name', a.name, '--role', a.role, '--password', a.password], {
        stdio: 'pipe',
        timeout: 60_000,
      });
    }
    await box.start();
    chrome = await launchChromium(box.caPem);
  });

  after(async () => {
    await chrome?.close();
    await box?.destroy();
  });

  test('a list whose Vietnamese letters were lost to "?" is shown as such, with the names', { timeout: 60_000 }, () =>
    withBoxLog(box, async () => {
      const secretary = await signIn(box, SECRETARY);
      const desk = await staffContext(chrome.browser, box, secretary, { width: 1280, height: 800 });
      try {
        const page = await desk.newPage();
        await page.goto(`${box.origin}/desk/people`);
        await page.getByTestId('open-import').click();
        await page.getByTestId('import-file').setInputFiles(GARBLED);
        await waitForText(page.getByTestId('import-damage'), /mất dấu tiếng Việt/, { timeout: 20_000 });
        assert.match(await page.getByTestId('import-damage').innerText(), /UTF-8/);
        assert.match(await page.getByTestId('import-valid').innerText(), /\b0\b/);
        assert.match(await page.getByTestId('import-invalid').innerText(), /\b30\b/);
        const first = page.getByTestId('import-preview').locator('tbody tr').first();
        assert.match(await first.innerText(), /Nguy\?n V\?n Hùng/);
        assert.ok(await page.getByTestId('import-confirm').isDisabled(), 'nothing to import');
        await screenshots(page, 'pat-0-lost-letters');
      } finally {
        await desk.close();
      }
    }));

  test('import 30 people, pair a tablet, check in, and the chair sees it live', { timeout: 180_000 }, () =>
    withBoxLog(box, async () => {
      const secretary = await signIn(box, SECRETARY);
      const body = await secretary.call('POST', '/api/bodies', { name: BODY, kind: 'ubnd' });

      // (1) The secretary imports the Excel list at her desk, straight into the body.
      const desk = await staffContext(chrome.browser, box, secretary, { width: 1280, height: 800 });
      try {
        const page = await desk.newPage();
        await page.goto(`${box.origin}/desk/people`);
        await page.getByTestId('open-import').click();
        await page.getByTestId('import-file').setInputFiles(FIXTURE);
        await waitForText(page.getByTestId('import-valid'), /\b30\b/, { timeout: 20_000 });
        await page.locator('#import-body').selectOption({ label: BODY });
        await page.getByTestId('import-confirm').click();
        await waitForText(page.getByTestId('import-result'), /\b30\b/, { timeout: 20_000 });
        await screenshots(page, 'pat-1-imported');
      } finally {
        await desk.close();
      }
      const { people } = await secretary.call('GET', '/api/people');
      assert.equal(people.length, 30, 'thirty people on the box');
      const [withMembers] = (await secretary.call('GET', '/api/bodies')).bodies.filter((b) => b.id === body.id);
      assert.ok(withMembers.members.length >= 2, `the body has the imported members: ${withMembers.members.length}`);
      const byName = new Map(people.map((p) => [p.name, p]));
      const chairPerson = byName.get(CHAIR.name);
      const delegate = byName.get(DELEGATE);
      assert.ok(chairPerson && delegate, 'the chair and the delegate were imported');
      assert.ok(withMembers.members.includes(delegate.id), `${DELEGATE} is a member`);
      const guests = people.filter((p) => !withMembers.members.includes(p.id)).map((p) => p.id);

      const startsAt = new Date(Date.now() + 20 * 60_000);
      startsAt.setUTCSeconds(0, 0);
      const meeting = await secretary.call('POST', '/api/meetings', {
        body_id: body.id,
        title: 'Phiên họp thường kỳ UBND xã tháng 11 năm 2026',
        starts_at: startsAt.toISOString().replace('.000Z', 'Z'),
        chair_id: chairPerson.id,
        guests,
      });
      assert.deepEqual([...meeting.members].sort(), [...withMembers.members].sort(), 'the meeting invites the body');

      // A room of five rows of six, the chair's seat at the top; everyone invited gets a seat.
      const seats = [{ id: 'CT', label: 'Chủ tọa', x: 500, y: 190 }];
      for (let r = 0; r < 5; r++) {
        for (let c = 0; c < 6; c++) seats.push({ id: `${'ABCDE'[r]}${c + 1}`, label: `${'ABCDE'[r]}${c + 1}`, x: 100 + c * 160, y: 320 + r * 150 });
      }
      await secretary.call('PUT', '/api/room/layout', { shape: 'rows', seats });
      const assignments = { CT: chairPerson.id };
      const others = [...meeting.members, ...meeting.guests].filter((id) => id !== chairPerson.id);
      others.forEach((id, i) => {
        assignments[seats[i + 1].id] = id;
      });
      const seatOfDelegate = Object.entries(assignments).find(([, id]) => id === delegate.id)[0];
      await secretary.call('PUT', `/api/meetings/${meeting.id}/seats`, { assignments });

      // Delegates see a meeting once it is published: submitted, approved by the chair, published.
      const chair = await signIn(box, CHAIR);
      await secretary.call('POST', `/api/meetings/${meeting.id}/submit`);
      await chair.call('POST', `/api/meetings/${meeting.id}/approve`);
      await secretary.call('POST', `/api/meetings/${meeting.id}/publish`);

      // (3, 4 before) The chair's console, open before anyone checks in.
      const console_ = await staffContext(chrome.browser, box, chair, { width: 1280, height: 800 });
      const tablet = await newTablet(chrome.browser);
      try {
        const chairPage = await console_.newPage();
        await chairPage.goto(`${box.origin}/chair/meetings/${meeting.id}`);
        const present = chairPage.getByTestId('quorum-present').first();
        await waitForText(present, /^0\b/, { timeout: 15_000 });
        const delegateSeat = chairPage.locator(`[data-testid="seating-map"] [data-seat="${seatOfDelegate}"]`);
        await delegateSeat.waitFor({ timeout: 15_000 });
        assert.notEqual(await delegateSeat.getAttribute('data-state'), 'present');
        await chairPage.evaluate(() => {
          window.__samePage = true;
        });
        await screenshots(chairPage, 'pat-2-chair-before');

        // (2) The delegate pairs a tablet from the QR link with a new PIN, and checks in.
        const { code } = await secretary.call('POST', `/api/people/${delegate.id}/pairing-code`);
        const page = await tablet.newPage();
        await page.goto(`${box.origin}/pair?code=${code}`);
        await page.getByTestId('pin').fill('2580');
        await page.getByTestId('pair-submit').click();
        await waitForText(page.getByTestId('paired-name'), DELEGATE);
        await page.getByTestId('confirm-pin').fill('2580');
        await page.getByTestId('confirm-submit').click();
        await page.getByTestId('meeting-card').first().click();
        await waitForText(page.getByTestId('my-seat-label'), `Ghế ${seatOfDelegate}`);
        await page.getByTestId('checkin-button').click();
        await waitForText(page.getByTestId('checked-in'), /^Đã điểm danh lúc\s\d{2}:\d{2}$/);
        await screenshots(page, 'pat-3-delegate-checked-in');

        // (3) The quorum figure moves on the chair's screen, without a reload.
        await waitForText(present, /^1\b/, { timeout: 10_000 });
        // (4) And the delegate's seat is "present" on the live map.
        await chairPage.waitForFunction(
          (seat) => document.querySelector(`[data-testid="seating-map"] [data-seat="${seat}"]`)?.getAttribute('data-state') === 'present',
          seatOfDelegate,
          { timeout: 10_000 },
        );
        assert.equal(await chairPage.evaluate(() => window.__samePage), true, 'the chair page must not have reloaded');
        await screenshots(chairPage, 'pat-4-chair-after');
      } finally {
        await tablet.close();
        await console_.close();
      }
    }));
});
