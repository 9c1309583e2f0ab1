// Voting on the delegates' tablets (issue 10), five real tablets in five browser contexts against
// the real box, with the chair acting through the API: a named vote opens and the ballot shows
// at once over the meeting page and over a document in the reader; each delegate taps a choice,
// confirms and sees "Đã ghi nhận" only after the box's 200. One tablet's answer is lost while its
// Wi-Fi drops: it sends the same ballot id again when back and the box counts it once. Another is
// offline when it taps "Gửi phiếu": it says the room's Wi-Fi is needed, keeps the ballot and sends
// it when the link is back. A member who is not checked in sees the vote but no ballot. At close
// every tablet shows the result, and "Xem chi tiết" lists who voted how. Then a secret vote: a
// tablet that cannot reach the box is reloaded and sends the same receipt; each tablet finds its
// own receipt in the published list, with its choice. Then a changeable election with a countdown:
// a member checks in from the banner, one delegate changes her choice, and a ballot sent offline
// is still unsent at close, which that tablet says truthfully. Last, a hand count with its reason.
// Each vote's evidence package passes `phonghop verify-vote`, and fails with one byte changed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BIN, Box, REPO, addStaff, apiAs, draftMeeting, launchChromium, pairTablet, publishMeeting, screenshots, uploadPdf, waitForText, withBoxLog, waitForCount } from './helpers.mjs';

const SECRETARY = { username: 'thuky', name: 'Trần Thị Thu', password: 'thuky-demo' };
const CHAIR = { username: 'chutich', name: 'Nguyễn Văn An', password: 'chutich-demo' };
const VOTERS = [
  ['binh', 'Trần Thị Bình', '2580'],
  ['cuong', 'Lê Văn Cường', '1357'],
  ['dung', 'Phạm Thị Dung', '2468'],
  ['em', 'Hoàng Văn Em', '3690'],
  ['giang', 'Đỗ Thị Giang', '4826'],
];
const WORDS = { approve: 'Tán thành', disapprove: 'Không tán thành', abstain: 'Không biểu quyết' };

/** Taps a choice, reads the confirmation as a person would, and taps "Gửi phiếu". */
async function choose(page, choice) {
  await page.getByTestId(`ballot-${choice}`).click();
  await waitForText(page.getByTestId('ballot-confirm'), `Xác nhận: ${WORDS[choice]}?`);
  await page.waitForTimeout(450); // a tap sooner counts as the second tap of a double tap
  await page.getByTestId('ballot-send').click();
}

async function accepted(page, choice, timeout = 10_000) {
  await waitForText(page.getByTestId('ballot-accepted').locator('.done-title'), '✓ Đã ghi nhận phiếu của bạn', { timeout });
  await waitForText(page.getByTestId('ballot-my-choice'), `Lựa chọn của bạn: ${WORDS[choice]}`);
}

/** The bytes of a GET as `cookie`, trusting only the box's CA. */
function download(box, cookie, pathname) {
  return new Promise((resolve, reject) => {
    https
      .get(`${box.origin}${pathname}`, { ca: box.caPem, headers: { Cookie: cookie } }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`GET ${pathname} → ${res.statusCode} ${Buffer.concat(chunks)}`))));
      })
      .on('error', reject);
  });
}

/** `phonghop verify-vote` on the package as downloaded (exit 0), then with one byte of result.json flipped (not 0). */
function verifyEvidence(zip, caPem, name) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phonghop-evidence-'));
  try {
    const file = path.join(dir, `${name}.zip`);
    const root = path.join(dir, 'ca.pem');
    fs.writeFileSync(file, zip);
    fs.writeFileSync(root, caPem);
    const ok = spawnSync(BIN, ['verify-vote', file, '--root', root], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(ok.status, 0, `verify-vote on the package as downloaded:\n${ok.stdout}${ok.stderr}`);
    assert.match(ok.stdout, /HỢP LỆ/);
    // One byte inside result.json's compressed data (its local header is `PK\x03\x04`…name).
    const at = zip.indexOf(Buffer.from('result.json'));
    assert.ok(at > 30, 'result.json is in the package');
    const header = at - 30;
    assert.equal(zip.readUInt32LE(header), 0x04034b50, 'a local file header');
    const data = at + zip.readUInt16LE(header + 26) + zip.readUInt16LE(header + 28);
    const bad = Buffer.from(zip);
    bad[data + 20] ^= 0x01;
    const badFile = path.join(dir, `${name}-changed.zip`);
    fs.writeFileSync(badFile, bad);
    const no = spawnSync(BIN, ['verify-vote', badFile, '--root', root], { encoding: 'utf8', timeout: 60_000 });
    // 65: a check failed (a bad package), not a crash.
    assert.equal(no.status, 65, `verify-vote must refuse a changed byte:\n${no.stdout}${no.stderr}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('voting on the delegates’ tablets', () => {
  let box;
  let chrome;
  let desk;
  let chair;
  let people = {};
  let meeting;
  let item;
  let doc;
  const tablets = {};

  before(async () => {
    box = await Box.create({ room: 'Phòng họp UBND xã Tân Phú' });
    await addStaff(box, [
      { ...SECRETARY, role: 'secretary' },
      { ...CHAIR, role: 'chair' },
    ]);
    chrome = await launchChromium(box.caPem);
    desk = await apiAs(box, SECRETARY);
    chair = await apiAs(box, CHAIR);
    ({ meeting, people } = await draftMeeting(desk, {
      people: [['an', 'Nguyễn Văn An'], ...VOTERS.map(([k, n]) => [k, n]), ['hoa', 'Vũ Thị Hoa'], ['khach', 'Lý Văn Khách']],
      startsInMinutes: 20,
      chair: 'an',
      guests: ['khach'],
    }));
    item = await desk.call('POST', `/api/meetings/${meeting.id}/items`, { title: 'Báo cáo kinh tế - xã hội năm 2026', presenter: 'Văn phòng' });
    doc = await uploadPdf(
      box,
      desk.cookie,
      `/api/meetings/${meeting.id}/items/${item.id}/documents?title=${encodeURIComponent('Báo cáo kinh tế - xã hội')}`,
      fs.readFileSync(path.join(REPO, 'tests', 'fixtures', 'giay-moi-hop.pdf')),
      'bao-cao.pdf',
    );
    await publishMeeting(desk, chair, meeting.id);
  });

  after(async () => {
    await chrome?.close();
    await box?.destroy();
  });

  test('a named vote, a secret vote and an election, with dropped links, on five tablets', { timeout: 240_000 }, async () => {
    await withBoxLog(box, async () => {
      const questions = `/api/meetings/${meeting.id}/questions`;
      const meetingUrl = `${box.origin}/meetings/${meeting.id}`;
      for (const [key, , pin] of [...VOTERS, ['hoa', '', '9753'], ['khach', '', '8642']]) tablets[key] = await pairTablet(chrome.browser, desk, people[key], pin);
      const page = (k) => tablets[k].page;
      for (const k of Object.keys(tablets)) await page(k).goto(meetingUrl);
      // Five members and the guest check in; Hoa does not.
      for (const [k] of [...VOTERS, ['khach']]) {
        await page(k).getByTestId('checkin-button').click();
        await page(k).getByTestId('checked-in').waitFor();
      }
      await chair.call('POST', `/api/meetings/${meeting.id}/live/start`, {});
      // Bình is reading the report when the vote opens.
      await page('binh').goto(`${box.origin}/read/${meeting.id}/${doc.id}`);
      await page('binh').locator('canvas').first().waitFor({ timeout: 20_000 });

      // ---- the named vote ----------------------------------------------------------------------
      const title = 'Thông qua báo cáo kinh tế - xã hội năm 2026';
      const named = await chair.call('POST', questions, { item_id: item.id, title, secrecy: 'named' });
      const nq = named.question.question.id;
      await chair.call('POST', `${questions}/${nq}/open`, {});

      // The ballot shows at once on every checked-in tablet, over the reader too.
      for (const [k] of VOTERS) {
        await waitForText(page(k).getByTestId('ballot-question'), title);
        assert.match(await page(k).getByTestId('ballot').innerText(), /Chữ ký điện tử chuyên dùng của hệ thống phòng họp/);
        assert.doesNotMatch(await page(k).getByTestId('ballot').innerText(), /chữ ký số/i);
      }
      // Hoa (not checked in) sees the vote under way, no ballot, and why.
      await waitForText(page('hoa').getByTestId('vote-banner-title'), title);
      await waitForText(page('hoa').getByTestId('vote-banner-checkin'), 'Bạn cần điểm danh để biểu quyết');
      assert.equal(await page('hoa').getByTestId('ballot').count(), 0, 'no ballot for a member who is not checked in');
      // The guest sees the vote under way and that it is not theirs to vote on.
      await waitForText(page('khach').getByTestId('vote-banner-title'), title);
      await waitForText(page('khach').getByTestId('vote-banner-observer'), 'Bạn theo dõi, không biểu quyết vấn đề này.');
      assert.equal(await page('khach').getByTestId('ballot').count(), 0, 'no ballot for a guest');
      await screenshots(page('cuong'), 'vote-ballot');
      await screenshots(page('binh'), 'vote-ballot-reader');
      // Over the reader, the ballot is what a tap reaches.
      const box1 = await page('binh').getByTestId('ballot-approve').boundingBox();
      const hit = await page('binh').evaluate(([x, y]) => document.elementFromPoint(x, y)?.getAttribute('data-testid'), [box1.x + box1.width / 2, box1.y + box1.height / 2]);
      assert.equal(hit, 'ballot-approve');

      // "Chọn lại" goes back to the three choices; nothing was sent.
      await page('cuong').getByTestId('ballot-disapprove').click();
      await waitForText(page('cuong').getByTestId('ballot-confirm'), 'Xác nhận: Không tán thành?');
      await screenshots(page('cuong'), 'vote-confirm');
      await page('cuong').getByTestId('ballot-again').click();
      await page('cuong').getByTestId('ballot-approve').waitFor();

      await choose(page('binh'), 'approve');
      await accepted(page('binh'), 'approve');
      await choose(page('cuong'), 'approve');
      await accepted(page('cuong'), 'approve');
      await screenshots(page('cuong'), 'vote-accepted');

      // Dung: the box gets the ballot, but the answer is lost as the Wi-Fi drops. The tablet tries
      // again (same ballot id) while offline, and again once back; it is counted once.
      const dungCookie = (await tablets.dung.context.cookies(box.origin)).map((c) => `${c.name}=${c.value}`).join('; ');
      const sent = [];
      page('dung').on('request', (r) => {
        if (r.method() === 'POST' && r.url().endsWith(`/questions/${nq}/ballots`)) sent.push(JSON.parse(r.postData()));
      });
      await page('dung').route(
        `**/questions/${nq}/ballots`,
        async (route) => {
          await tablets.dung.context.setOffline(true);
          const res = await box.request('POST', `${questions}/${nq}/ballots`, { json: JSON.parse(route.request().postData()), headers: { Cookie: dungCookie, Origin: box.origin } });
          assert.equal(res.status, 200, res.text);
          await route.abort('internetdisconnected');
        },
        { times: 1 },
      );
      await choose(page('dung'), 'approve');
      await waitForText(page('dung').getByTestId('ballot-offline').locator('.offline-title'), 'Cần kết nối Wi-Fi phòng họp để biểu quyết');
      assert.equal(await page('dung').getByTestId('ballot-accepted').count(), 0, 'never "recorded" before a 200');
      assert.equal(await page('dung').getByTestId('vote-banner-voted').count(), 0, 'nor "voted" on the banner');
      await screenshots(page('dung'), 'vote-offline');
      await tablets.dung.context.setOffline(false);
      await accepted(page('dung'), 'approve', 15_000);
      assert.ok(sent.length >= 2, `sent, then sent again: ${sent.length}`);
      assert.equal(new Set(sent.map((b) => b.ballot_id)).size, 1, 'every try carried the same ballot id');
      assert.equal(new Set(sent.map((b) => b.signature)).size, 1, 'and the same signature');

      // Em is offline before tapping "Gửi phiếu": nothing is accepted; the ballot waits.
      await tablets.em.context.setOffline(true);
      await choose(page('em'), 'disapprove');
      await waitForText(page('em').getByTestId('ballot-offline').locator('.offline-title'), 'Cần kết nối Wi-Fi phòng họp để biểu quyết');
      await page('em').waitForTimeout(1_000);
      assert.equal(await page('em').getByTestId('ballot-accepted').count(), 0);
      // Hidden, the ballot waits; the banner says why and brings it back with one tap.
      await page('em').getByTestId('ballot-hide').click();
      await waitForText(page('em').getByTestId('vote-banner-pending'), 'Cần kết nối Wi-Fi phòng họp để biểu quyết');
      await page('em').getByTestId('vote-banner-reopen').click();
      await page('em').getByTestId('ballot-offline').waitFor();
      await tablets.em.context.setOffline(false);
      await accepted(page('em'), 'disapprove', 15_000);

      await choose(page('giang'), 'approve');
      await accepted(page('giang'), 'approve');

      // The box counted five, once each; the banner on Hoa's tablet says so.
      const open = await chair.call('GET', `${questions}/${nq}`);
      assert.equal(open.question.cast, 5);
      await waitForText(page('hoa').getByTestId('vote-banner-cast'), /^Đã có 5\/5 người biểu quyết$/, { timeout: 5_000 });

      // The chair closes: every tablet shows the result.
      await chair.call('POST', `${questions}/${nq}/close`, {});
      for (const k of [...VOTERS.map(([key]) => key), 'hoa', 'khach']) {
        const pop = page(k).getByTestId('vote-result-popup');
        await waitForText(pop.getByTestId('vote-result-verdict'), 'ĐƯỢC THÔNG QUA');
        await waitForText(pop.getByTestId('count-approve'), '4');
        await waitForText(pop.getByTestId('count-disapprove'), '1');
        await waitForText(pop.getByTestId('count-abstain'), '0');
        await waitForText(pop.getByTestId('count-not-voted'), '2');
        await waitForText(pop.getByTestId('vote-result-rule'), 'Cần 4 phiếu tán thành: quá 1/2 tổng số thành viên (7)');
      }
      await screenshots(page('cuong'), 'vote-result');
      // Who voted how, from the signed record.
      const pop = page('cuong').getByTestId('vote-result-popup');
      await pop.getByTestId('vote-result-details').click();
      await pop.getByTestId('vote-result-who').waitFor();
      const who = Object.fromEntries(
        await pop.getByTestId('vote-result-voter').evaluateAll((rows) => rows.map((r) => [r.querySelector('.w-name').textContent, r.querySelector('.w-mark').textContent])),
      );
      assert.deepEqual(who, {
        'Trần Thị Bình': 'Tán thành',
        'Lê Văn Cường': 'Tán thành',
        'Phạm Thị Dung': 'Tán thành',
        'Hoàng Văn Em': 'Không tán thành',
        'Đỗ Thị Giang': 'Tán thành',
      });
      // What a projector reads: the signed result, five ballots, one per person.
      const result = await chair.call('GET', `${questions}/${nq}/result`);
      assert.deepEqual(result.record.outcome.counts, { approve: 4, disapprove: 1, abstain: 0 });
      assert.equal(result.record.outcome.passed, true);
      assert.equal(result.record.ballots.length, 5);
      assert.equal(new Set(result.record.ballots.map((b) => b.person_id)).size, 5);
      assert.equal(result.record.ballots.find((b) => b.person_id === people.dung.id).id, sent[0].ballot_id, "Dung's ballot is the one it retried");
      // The evidence package, checked offline: valid as downloaded, refused with one byte changed.
      verifyEvidence(await download(box, chair.cookie, `${questions}/${nq}/evidence.zip`), box.caPem, 'named');
      for (const k of Object.keys(tablets)) await page(k).getByTestId('vote-result-popup').getByTestId('vote-result-close').click();

      // ---- the secret vote ---------------------------------------------------------------------
      const stitle = 'Bỏ phiếu kín: đề nghị khen thưởng năm 2026';
      const secret = await chair.call('POST', questions, { item_id: item.id, title: stitle, secrecy: 'secret' });
      const sq = secret.question.question.id;
      await chair.call('POST', `${questions}/${sq}/open`, {});
      const marks = { binh: 'approve', cuong: 'disapprove', dung: 'abstain', em: 'approve', giang: 'approve' };
      for (const [k] of VOTERS) await waitForText(page(k).getByTestId('ballot-question'), stitle);
      // Cường's link drops before sending; the receipt goes once it is back.
      await tablets.cuong.context.setOffline(true);
      // Giang's tablet cannot reach the box and is reloaded: the same receipt goes after the reload.
      const receipts = [];
      page('giang').on('request', (r) => {
        if (r.method() === 'POST' && r.url().endsWith(`/questions/${sq}/ballots`)) receipts.push(JSON.parse(r.postData()).receipt);
      });
      await page('giang').route(`**/questions/${sq}/ballots`, (route) => route.abort('connectionreset'));
      for (const [k] of VOTERS) await choose(page(k), marks[k]);
      await waitForText(page('giang').getByTestId('ballot-sending'), 'Đang gửi lại phiếu…');
      await page('giang').reload();
      await waitForText(page('giang').getByTestId('ballot-sending'), /^Đang gửi (lại )?phiếu…$/);
      for (const until = Date.now() + 10_000; receipts.length < 3; ) {
        assert.ok(Date.now() < until, `retried after the reload: ${receipts.length}`);
        await page('giang').waitForTimeout(100);
      }
      await page('giang').unroute(`**/questions/${sq}/ballots`);
      await waitForText(page('cuong').getByTestId('ballot-offline').locator('.offline-title'), 'Cần kết nối Wi-Fi phòng họp để biểu quyết');
      await tablets.cuong.context.setOffline(false);
      for (const [k] of VOTERS) await accepted(page(k), marks[k], 15_000);
      // The receipt only on request.
      assert.equal(await page('binh').getByTestId('ballot-receipt').count(), 0);
      await page('binh').getByTestId('ballot-receipt-toggle').click();
      const shown = (await page('binh').getByTestId('ballot-receipt').innerText()).replace(/\s/g, '');
      assert.match(shown, /^[0-9a-f]{64}$/);

      await chair.call('POST', `${questions}/${sq}/close`, {});
      const sresult = await chair.call('GET', `${questions}/${sq}/result`);
      assert.deepEqual(sresult.record.outcome.counts, { approve: 3, disapprove: 1, abstain: 1 });
      assert.equal(sresult.record.receipts.length, 5);
      assert.ok(sresult.record.receipts.some((r) => r.receipt === shown), "Bình's receipt is published");
      assert.equal(new Set(receipts).size, 1, 'Giang sent one receipt, before and after the reload');
      assert.ok(sresult.record.receipts.some((r) => r.receipt === receipts[0]), "Giang's receipt is published");
      verifyEvidence(await download(box, chair.cookie, `${questions}/${sq}/evidence.zip`), box.caPem, 'secret');
      for (const [k] of VOTERS) {
        const p = page(k).getByTestId('vote-result-popup');
        await waitForText(p.getByTestId('vote-result-verdict'), 'KHÔNG ĐƯỢC THÔNG QUA');
        await p.getByTestId('vote-result-details').click();
        await waitForText(p.getByTestId('vote-receipt-check'), `✓ Phiếu của bạn có trong danh sách, đúng lựa chọn: ${WORDS[marks[k]]}`);
      }
      await screenshots(page('dung'), 'vote-secret-result');
      // The result stays on the meeting page after the pop-up is closed, and after a reload.
      await page('dung').getByTestId('vote-result-popup').getByTestId('vote-result-close').click();
      await page('dung').reload();
      await waitForText(page('dung').getByTestId('vote-results').getByTestId('vote-result-verdict').first(), 'KHÔNG ĐƯỢC THÔNG QUA');
      await waitForCount(page('dung').getByTestId('vote-results').getByTestId('vote-result'), 2);
      for (const [k] of VOTERS) if (k !== 'dung') await page(k).getByTestId('vote-result-popup').getByTestId('vote-result-close').click();

      // ---- an election that closes before a ballot got through ------------------------------
      // Hoa checks in from the banner; the ballot then appears. She is offline when she sends, and
      // the chair closes before the link is back: her tablet says so truthfully.
      await page('hoa').getByTestId('vote-result-popup').getByTestId('vote-result-close').click();
      const etitle = 'Bầu 2 thành viên tổ hòa giải';
      const election = await chair.call('POST', questions, {
        item_id: item.id,
        title: etitle,
        kind: 'election',
        candidates: [{ name: 'Ngô Văn Khoa' }, { name: 'Bùi Thị Lan' }, { name: 'Mai Văn Minh' }],
        max_choices: 2,
        base: 'cast',
        countdown_seconds: 300,
        changeable: true,
      });
      const eq = election.question.question.id;
      await chair.call('POST', `${questions}/${eq}/open`, {});
      await waitForText(page('hoa').getByTestId('vote-banner-checkin'), 'Bạn cần điểm danh để biểu quyết');
      await page('hoa').getByTestId('vote-banner-checkin-button').click();
      await waitForText(page('hoa').getByTestId('ballot-question'), etitle);
      await waitForText(page('binh').getByTestId('ballot-question'), etitle);
      // The countdown, by the box's clock.
      await waitForText(page('binh').getByTestId('ballot-countdown'), /^Còn [45]:\d\d$/);
      // Bình picks two of three: a third cannot be ticked.
      const cands = page('binh').getByTestId('ballot-candidate');
      await cands.nth(0).click();
      await cands.nth(1).click();
      assert.equal(await cands.nth(2).locator('input').isDisabled(), true);
      await page('binh').getByTestId('ballot-next').click();
      await waitForText(page('binh').getByTestId('ballot-confirm'), 'Xác nhận: Ngô Văn Khoa, Bùi Thị Lan?');
      await page('binh').waitForTimeout(450);
      await page('binh').getByTestId('ballot-send').click();
      await waitForText(page('binh').getByTestId('ballot-accepted').locator('.done-title'), '✓ Đã ghi nhận phiếu của bạn');
      // A changeable vote: Bình changes her mind before close (Minh instead of Lan).
      await page('binh').getByTestId('ballot-change').click();
      await cands.nth(0).click();
      await cands.nth(2).click();
      await page('binh').getByTestId('ballot-next').click();
      await waitForText(page('binh').getByTestId('ballot-confirm'), 'Xác nhận: Ngô Văn Khoa, Mai Văn Minh?');
      await page('binh').waitForTimeout(450);
      await page('binh').getByTestId('ballot-send').click();
      await waitForText(page('binh').getByTestId('ballot-my-choice'), 'Lựa chọn của bạn: Ngô Văn Khoa, Mai Văn Minh');

      await tablets.hoa.context.setOffline(true);
      await page('hoa').getByTestId('ballot-candidate').nth(2).click();
      await page('hoa').getByTestId('ballot-next').click();
      await page('hoa').waitForTimeout(450);
      await page('hoa').getByTestId('ballot-send').click();
      await waitForText(page('hoa').getByTestId('ballot-offline').locator('.offline-title'), 'Cần kết nối Wi-Fi phòng họp để biểu quyết');
      await chair.call('POST', `${questions}/${eq}/close`, {});
      await tablets.hoa.context.setOffline(false);
      const hpop = page('hoa').getByTestId('vote-result-popup');
      await waitForText(hpop.getByTestId('ballot-unsent'), 'Biểu quyết đã kết thúc; phiếu chưa gửi được', { timeout: 20_000 });
      await waitForText(hpop.getByTestId('vote-result-verdict'), 'Trúng cử: Ngô Văn Khoa, Mai Văn Minh');
      await screenshots(page('hoa'), 'vote-unsent');
      const eresult = await chair.call('GET', `${questions}/${eq}/result`);
      assert.equal(eresult.record.ballots.length, 1, "only Bình's ballot counts, the one she changed to");
      const bpop = page('binh').getByTestId('vote-result-popup');
      await waitForText(bpop.getByTestId('vote-result-verdict'), 'Trúng cử: Ngô Văn Khoa, Mai Văn Minh');
      assert.deepEqual(await bpop.getByTestId('vote-result-candidate').allInnerTexts(), ['Ngô Văn Khoa 1 phiếu Trúng cử', 'Bùi Thị Lan 0 phiếu', 'Mai Văn Minh 1 phiếu Trúng cử']);

      // ---- a hand count ------------------------------------------------------------------------
      await bpop.getByTestId('vote-result-close').click();
      await hpop.getByTestId('vote-result-close').click();
      const mtitle = 'Thông qua kế hoạch phòng chống lụt bão';
      const hand = await desk.call('POST', questions, { item_id: item.id, title: mtitle });
      await desk.call('POST', `${questions}/${hand.question.question.id}/manual`, { counts: { approve: 6, disapprove: 0, abstain: 0 }, reason: 'Mất điện, biểu quyết giơ tay' });
      for (const k of ['binh', 'hoa']) {
        const p = page(k).getByTestId('vote-result-popup');
        await waitForText(p.getByTestId('vote-result-title'), mtitle);
        await waitForText(p.getByTestId('vote-result-manual'), 'Kiểm phiếu thủ công');
        await waitForText(p.getByTestId('vote-result-manual-reason'), 'Lý do: Mất điện, biểu quyết giơ tay');
        await waitForText(p.getByTestId('vote-result-verdict'), 'ĐƯỢC THÔNG QUA');
      }
      await page('hoa').reload();
      await waitForText(page('hoa').getByTestId('vote-results').getByTestId('vote-result-manual-reason').first(), 'Lý do: Mất điện, biểu quyết giơ tay');
      // Hoa's meeting page keeps the election's result too.
      assert.deepEqual(await page('hoa').getByTestId('vote-results').locator(`[data-question="${eq}"]`).getByTestId('vote-result-candidate').allInnerTexts(), ['Ngô Văn Khoa 1 phiếu Trúng cử', 'Bùi Thị Lan 0 phiếu', 'Mai Văn Minh 1 phiếu Trúng cử']);
    });
  });
});
