// The staff side of voting (issue 10), against a real box: the secretary prepares three
// questions at the desk (a named motion with a countdown, a secret one by 2/3, an election),
// the chair starts the meeting and opens a vote from the console, and sees the box refuse it
// plainly without a quorum, in recess, and while another vote is open. Members vote from their
// own tablets' keys (made and used here with WebCrypto, as a tablet does); the console's count
// and the projector's move; the chair closes with a confirm step; the console and a paired
// projector show the counts, ĐƯỢC THÔNG QUA / KHÔNG ĐƯỢC THÔNG QUA and who voted how. The desk's
// late edit of an opened question is refused in Vietnamese. A motion is added on the fly and its
// countdown closes it; an election counted by hand reads "Kiểm phiếu thủ công" everywhere; after
// the close of the meeting every result stays listed with its evidence package.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Box, SHOTS_DIR, addStaff, apiAs, castBallot as vote, draftMeeting, launchChromium, newTablet, pairInNode, pairTablet, publishMeeting, screenshots, waitForText, withBoxLog, waitForCount } from './helpers.mjs';

const SECRETARY = { username: 'thuky', name: 'Trần Thị Thu', password: 'thuky-demo-123', role: 'secretary' };
const CHAIR = { username: 'chutich', name: 'Nguyễn Văn An', password: 'chutich-demo-123', role: 'chair' };

/** A staff page signed in through the sign-in form, landing on `pathname`. */
async function signInPage(browser, box, account, pathname) {
  const context = await newTablet(browser);
  const page = await context.newPage();
  await page.goto(`${box.origin}${pathname}`);
  await page.locator('#signin-username').fill(account.username);
  await page.locator('#signin-password').fill(account.password);
  await page.locator('form button[type="submit"]').click();
  await page.waitForURL(`${box.origin}${pathname}`);
  return { context, page };
}

/** The wall hears of each change through its own feed (a vote it did not know costs it a fresh
 * read of the list): on a busy 2-core machine that may take longer than the default 10 s. */
const WALL = { timeout: 20_000 };

/** The projector at its own size, when PHONGHOP_SCREENSHOTS is set. */
async function wallShot(page, name) {
  if (SHOTS_DIR) await page.screenshot({ path: path.join(SHOTS_DIR, `vote-wall-${name}.png`) });
}

describe('voting from the desk, the console and the projector', () => {
  let box;
  let chrome;
  let desk;
  let meeting;
  let people = {};
  let items = [];
  const tablets = {};

  before(async () => {
    box = await Box.create({ room: 'Phòng họp UBND xã Tân Phú' });
    await addStaff(box, [SECRETARY, CHAIR]);
    chrome = await launchChromium(box.caPem);
    desk = await apiAs(box, SECRETARY);
    ({ meeting, people } = await draftMeeting(desk, {
      people: [['an', 'Nguyễn Văn An'], ['binh', 'Trần Thị Bình'], ['cuong', 'Lê Văn Cường'], ['dung', 'Phạm Thị Dung'], ['em', 'Hoàng Văn Em']],
      startsInMinutes: 5,
      chair: 'an',
    }));
    items = [
      await desk.call('POST', `/api/meetings/${meeting.id}/items`, { title: 'Dự toán ngân sách xã năm 2027', presenter: 'Văn phòng', duration_minutes: 30 }),
      await desk.call('POST', `/api/meetings/${meeting.id}/items`, { title: 'Kiện toàn tổ hòa giải thôn 3', presenter: 'Tư pháp', duration_minutes: 15 }),
    ];
    for (const [key, pin] of [['binh', '2580'], ['cuong', '1357'], ['dung', '2468'], ['em', '1470']]) tablets[key] = await pairInNode(box, desk, people[key], pin);
  });

  after(async () => {
    await chrome?.close();
    await box?.destroy();
  });

  test('prepare, open, count live, close, result on the console and the wall, hand count', { timeout: 240_000 }, () =>
    withBoxLog(box, async () => {
      // —— The secretary prepares the questions at the desk. ——
      const { page: prep } = await signInPage(chrome.browser, box, SECRETARY, `/desk/meetings/${meeting.id}/prepare`);
      const item1 = prep.locator(`[data-testid="agenda-item"][data-item-id="${items[0].id}"]`);
      const item2 = prep.locator(`[data-testid="agenda-item"][data-item-id="${items[1].id}"]`);
      await item1.getByTestId('question-add').click();
      let form = item1.getByTestId('question-form');
      // Nothing written: said in Vietnamese next to the field, nothing sent.
      await form.getByTestId('q-save').click();
      await waitForText(form.locator('.field-error').first(), 'Hãy ghi nội dung biểu quyết.');
      await form.getByTestId('q-title').fill('Thông qua dự toán ngân sách xã năm 2027');
      await form.getByTestId('q-minutes').fill('2');
      await form.getByTestId('q-save').click();
      await waitForText(prep.getByTestId('prep-notice'), 'Đã lưu vấn đề biểu quyết.');
      const q1row = item1.getByTestId('question-row').first();
      await waitForText(q1row.getByTestId('question-title'), 'Thông qua dự toán ngân sách xã năm 2027');
      await waitForText(q1row.getByTestId('question-rules'), 'Tán thành / Không tán thành · Công khai · Quá 1/2 tổng số thành viên · hòa: theo chủ tọa · ⏱ 2:00');
      await waitForText(q1row.getByTestId('question-status'), 'Chưa biểu quyết');

      // A secret ballot cannot be changeable: the box's rule, shown before anything is sent.
      await item1.getByTestId('question-add').click();
      form = item1.getByTestId('question-form');
      await form.getByTestId('q-title').fill('Thông qua kế hoạch đầu tư công năm 2026');
      await form.getByTestId('q-changeable').check();
      await form.getByTestId('q-secret').check();
      assert.equal(await form.getByTestId('q-changeable').isDisabled(), true);
      assert.equal(await form.getByTestId('q-changeable').isChecked(), false);
      await form.getByTestId('q-th-two-thirds').check();
      await form.getByTestId('q-save').click();
      const q2row = item1.getByTestId('question-row').nth(1);
      await waitForText(q2row.getByTestId('question-rules'), 'Tán thành / Không tán thành · Bỏ phiếu kín · Ít nhất 2/3 tổng số thành viên · hòa: theo chủ tọa');
      // A draft can be edited: the form opens with what was saved.
      await q2row.getByTestId('question-edit').click();
      assert.equal(await q2row.getByTestId('q-secret').isChecked(), true);
      assert.equal(await q2row.getByTestId('q-th-two-thirds').isChecked(), true);
      await q2row.getByTestId('q-title').fill('Thông qua kế hoạch đầu tư công năm 2027');
      await q2row.getByTestId('q-save').click();
      await waitForText(q2row.getByTestId('question-title'), 'Thông qua kế hoạch đầu tư công năm 2027');

      // An election on the second item: three candidates, one seat, counted against those present.
      await item2.getByTestId('question-add').click();
      form = item2.getByTestId('question-form');
      await form.getByTestId('q-title').fill('Bầu tổ trưởng tổ hòa giải thôn 3');
      await form.getByTestId('q-kind-election').check();
      await form.getByTestId('q-candidate-add').click();
      const names = ['Lê Văn Cường', 'Phạm Thị Dung', 'Hoàng Văn Em'];
      for (const [i, n] of names.entries()) await form.getByTestId('q-candidate').nth(i).fill(n);
      await form.getByTestId('q-base-present').check();
      await form.getByTestId('q-save').click();
      const q3row = item2.getByTestId('question-row').first();
      await waitForText(q3row.getByTestId('question-rules'), 'Bầu cử: chọn tối đa 1 trong 3 người · Công khai · Quá 1/2 thành viên có mặt · hòa: theo chủ tọa');
      await waitForText(q3row.getByTestId('question-candidates'), names.join(', '));
      await screenshots(prep, 'vote-prepare');

      const list = await desk.call('GET', `/api/meetings/${meeting.id}/questions`);
      assert.equal(list.questions.length, 3);
      const [q1, q2, q3] = list.questions.map((q) => q.question.question);
      assert.deepEqual([q1.secrecy, q1.countdown_seconds, q2.secrecy, q2.threshold, q3.kind, q3.base], ['named', 120, 'secret', { numerator: 2, denominator: 3, comparison: 'at_least' }, 'election', 'present']);

      // Published; only the chair and one member are in the room so far.
      const chairApi = await apiAs(box, CHAIR);
      await publishMeeting(desk, chairApi, meeting.id);
      const mark = (key, status) => desk.call('PUT', `/api/meetings/${meeting.id}/attendance/${people[key].id}`, { status });
      await mark('an', 'present');
      await mark('binh', 'present');

      // —— The chair's console. ——
      const { page } = await signInPage(chrome.browser, box, CHAIR, `/chair/meetings/${meeting.id}`);
      await page.getByTestId('start').click();
      await waitForText(page.getByTestId('phase'), 'Đang họp');
      const panel = page.getByTestId('vote-panel');
      await waitForText(panel.locator('h2'), '🗳 Biểu quyết — 1. Dự toán ngân sách xã năm 2027');
      const v1 = panel.locator(`[data-testid="vote-question"][data-question-id="${q1.id}"]`);
      const v2 = panel.locator(`[data-testid="vote-question"][data-question-id="${q2.id}"]`);
      await waitForText(v1.getByTestId('vote-title'), 'Thông qua dự toán ngân sách xã năm 2027');
      await waitForCount(panel.getByTestId('vote-question'), 2, { message: 'the election is on another item' });

      // Refused plainly: no quorum (2 of 5 in the room).
      await v1.getByTestId('vote-open').click();
      await waitForText(panel.getByTestId('vote-error'), 'Chưa đủ số thành viên có mặt theo quy định nên chưa thể biểu quyết.');
      await screenshots(page, 'vote-refused-quorum');
      for (const key of ['cuong', 'dung', 'em']) await mark(key, 'present');

      // Refused in recess, too.
      await page.getByTestId('pause').click();
      await page.getByTestId('pause-reason-input').fill('Giải lao');
      await page.getByTestId('pause-confirm').click();
      await waitForText(page.getByTestId('phase'), 'Đang tạm nghỉ');
      await v1.getByTestId('vote-open').click();
      await waitForText(panel.getByTestId('vote-error'), 'Cuộc họp phải đang diễn ra (đã khai mạc, không nghỉ giải lao) mới mở biểu quyết được.');
      await page.getByTestId('resume').click();
      await waitForText(page.getByTestId('phase'), 'Đang họp');

      // Opened: the live count against those present, the countdown by the box's clock.
      await v1.getByTestId('vote-open').click();
      await waitForText(v1.getByTestId('vote-status'), 'Đang biểu quyết');
      assert.equal(await panel.getByTestId('vote-error').count(), 0, 'the old refusal is gone');
      await waitForText(v1.getByTestId('vote-cast'), 'Đã biểu quyết: 0 / 5 có mặt');
      await waitForText(v1.getByTestId('vote-countdown'), /^Còn lại\s+(2:00|1:[0-5]\d)$/);

      // Another vote while this one is open: refused.
      await v2.getByTestId('vote-open').click();
      await waitForText(panel.getByTestId('vote-error'), 'Đang có một biểu quyết khác mở. Hãy kết thúc biểu quyết đó trước.');

      // The projector, paired from the desk's code link, shows the vote, not how anyone voted.
      const { code } = await desk.call('POST', '/api/displays/code', { label: 'Máy chiếu hội trường' });
      const tv = await chrome.browser.newContext({ viewport: { width: 1920, height: 1080 }, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
      const wall = await tv.newPage();
      await wall.goto(`${box.origin}/screen?code=${code}`);
      const wallVote = wall.getByTestId('screen-vote');
      await waitForText(wallVote.getByTestId('screen-vote-word'), '● ĐANG BIỂU QUYẾT', WALL);
      await waitForText(wallVote.getByTestId('screen-vote-title'), 'Thông qua dự toán ngân sách xã năm 2027', WALL);
      await waitForText(wallVote.getByTestId('screen-vote-cast'), '0 / 5', WALL);
      await waitForText(wallVote.getByTestId('screen-vote-countdown'), /^(2:00|1:[0-5]\d)$/, WALL);
      const titleSize = await wallVote.getByTestId('screen-vote-title').evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
      assert.ok(titleSize >= 80, `the question reads from the back of the room (${titleSize}px)`);

      // Members vote from their tablets: the console's count and the wall's move.
      await vote(tablets.binh, meeting.id, q1.id, 'approve');
      await vote(tablets.cuong, meeting.id, q1.id, 'approve');
      await vote(tablets.dung, meeting.id, q1.id, 'disapprove');
      await waitForText(v1.getByTestId('vote-cast'), 'Đã biểu quyết: 3 / 5 có mặt');
      await waitForText(wallVote.getByTestId('screen-vote-cast'), '3 / 5', WALL);
      await vote(tablets.em, meeting.id, q1.id, 'approve');
      await waitForText(v1.getByTestId('vote-cast'), 'Đã biểu quyết: 4 / 5 có mặt');
      await waitForText(wallVote.getByTestId('screen-vote-cast'), '4 / 5', WALL);
      assert.doesNotMatch(await wall.getByTestId('screen').innerText(), /Tán thành|Trần Thị Bình/, 'the wall shows how many, never how or who while open');
      await screenshots(page, 'vote-open-console');
      await wallShot(wall, 'open');

      // Closed with a confirm step.
      await v1.getByTestId('vote-close').click();
      await waitForText(v1.locator('[role="alertdialog"]'), /Kết thúc biểu quyết ngay\?/);
      await v1.getByTestId('vote-close-confirm').click();
      await waitForText(v1.getByTestId('vote-status'), 'Đã có kết quả');
      const r1 = v1.getByTestId('vote-result');
      await waitForText(r1.getByTestId('vote-verdict'), '✓ ĐƯỢC THÔNG QUA');
      await waitForText(r1.getByTestId('vote-count-approve'), 'Tán thành\n3');
      await waitForText(r1.getByTestId('vote-count-disapprove'), 'Không tán thành\n1');
      await waitForText(r1.getByTestId('vote-count-abstain'), 'Không biểu quyết\n0');
      await waitForText(r1.getByTestId('vote-count-not-voted'), 'Chưa biểu quyết\n1');
      await waitForText(r1.getByTestId('vote-rule'), 'Cơ sở tính: Tổng số thành viên (5)\nTỷ lệ: Quá 1/2 — cần 3 phiếu tán thành');
      await waitForText(r1.getByTestId('vote-who-approve'), 'Tán thành (3): Trần Thị Bình, Lê Văn Cường, Hoàng Văn Em');
      await waitForText(r1.getByTestId('vote-who-disapprove'), 'Không tán thành (1): Phạm Thị Dung');
      const evidence = await v1.getByTestId('vote-evidence').getAttribute('href');
      assert.equal(evidence, `/api/meetings/${meeting.id}/questions/${q1.id}/evidence.zip`);
      const zip = await box.request('GET', evidence, { headers: { Cookie: chairApi.cookie } });
      assert.equal(zip.status, 200, 'the evidence package downloads');
      assert.match(String(zip.headers['content-type']), /zip/);
      assert.match(await v1.innerText(), /chữ ký điện tử chuyên dùng của hệ thống phòng họp/);
      await screenshots(page, 'vote-closed-console');

      // The wall: the result in large type, and for this named vote who voted how.
      await wall.locator('[data-testid="screen-vote"][data-status="closed"]').waitFor();
      await waitForText(wallVote.getByTestId('vote-verdict'), '✓ ĐƯỢC THÔNG QUA', WALL);
      await waitForText(wallVote.getByTestId('vote-count-approve'), 'Tán thành\n3', WALL);
      await waitForText(wallVote.getByTestId('vote-count-disapprove'), 'Không tán thành\n1', WALL);
      await waitForText(wallVote.getByTestId('vote-who-approve'), 'Tán thành (3): Trần Thị Bình, Lê Văn Cường, Hoàng Văn Em', WALL);
      const verdictSize = await wallVote.getByTestId('vote-verdict').evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
      assert.ok(verdictSize >= 90, `the verdict reads from the back of the room (${verdictSize}px)`);
      await wallShot(wall, 'passed');

      // The desk starts editing the secret question just as the chair opens it: the box refuses
      // the change, and the desk says why in Vietnamese.
      await q2row.getByTestId('question-edit').click();
      await q2row.getByTestId('q-title').fill('Thông qua kế hoạch đầu tư công (sửa muộn)');
      // The secret vote by 2/3: one for, two against → not adopted; nobody's choice is shown.
      await v2.getByTestId('vote-open').click();
      await waitForText(v2.getByTestId('vote-status'), 'Đang biểu quyết');
      await q2row.getByTestId('q-save').click();
      await waitForText(q2row.getByTestId('question-error'), 'Nội dung này đã mở biểu quyết nên không sửa hoặc xóa được.');
      await q2row.getByRole('button', { name: 'Hủy' }).click();
      await waitForText(q2row.getByTestId('question-status'), 'Đang biểu quyết');
      assert.equal(await q2row.getByTestId('question-edit').count(), 0, 'an open question has no edit button');
      await waitForText(v2.getByTestId('vote-cast'), 'Đã biểu quyết: 0 / 5 có mặt');
      await waitForText(wallVote.getByTestId('screen-vote-title'), 'Thông qua kế hoạch đầu tư công năm 2027', WALL);
      await vote(tablets.binh, meeting.id, q2.id, 'approve');
      await vote(tablets.cuong, meeting.id, q2.id, 'disapprove');
      await vote(tablets.dung, meeting.id, q2.id, 'disapprove');
      await waitForText(v2.getByTestId('vote-cast'), 'Đã biểu quyết: 3 / 5 có mặt');
      await v2.getByTestId('vote-close').click();
      await v2.getByTestId('vote-close-confirm').click();
      await waitForText(v2.getByTestId('vote-status'), 'Đã có kết quả');
      const r2 = v2.getByTestId('vote-result');
      await waitForText(r2.getByTestId('vote-verdict'), '✕ KHÔNG ĐƯỢC THÔNG QUA');
      await waitForText(r2.getByTestId('vote-rule'), 'Cơ sở tính: Tổng số thành viên (5)\nTỷ lệ: Ít nhất 2/3 — cần 4 phiếu tán thành');
      assert.equal(await r2.getByTestId('vote-who').count(), 0, 'a secret vote names nobody');
      await waitForText(wallVote.getByTestId('screen-vote-title'), 'Thông qua kế hoạch đầu tư công năm 2027', WALL);
      await waitForText(wallVote.getByTestId('vote-verdict'), '✕ KHÔNG ĐƯỢC THÔNG QUA', WALL);
      await waitForText(wallVote.getByTestId('vote-count-approve'), 'Tán thành\n1', WALL);
      assert.equal(await wallVote.getByTestId('vote-who').count(), 0);
      await wallShot(wall, 'failed');

      // The next item: a motion arises and is added on the fly from the console.
      await page.getByTestId('next-item').click();
      await waitForText(panel.locator('h2'), '🗳 Biểu quyết — 2. Kiện toàn tổ hòa giải thôn 3');
      await panel.getByTestId('vote-add').click();
      const quick = panel.getByTestId('question-form');
      await quick.getByTestId('q-title').fill('Đề nghị bổ sung kinh phí hoạt động cho tổ hòa giải');
      await quick.getByTestId('q-minutes').fill('0,2');
      await quick.getByTestId('q-save').click();
      const v4 = panel.getByTestId('vote-question').nth(1);
      await waitForText(v4.getByTestId('vote-title'), 'Đề nghị bổ sung kinh phí hoạt động cho tổ hòa giải');
      await waitForText(v4.getByTestId('vote-status'), 'Chưa biểu quyết');
      // The desk sees it appear under the item without a reload.
      await waitForText(item2.getByTestId('question-row').nth(1).getByTestId('question-title'), 'Đề nghị bổ sung kinh phí hoạt động cho tổ hòa giải');

      // Its 12-second countdown runs out: the box closes it by itself, and the console and the
      // wall show the result (two for, of five members: not adopted).
      const q4 = await v4.getAttribute('data-question-id');
      await v4.getByTestId('vote-open').click();
      await waitForText(v4.getByTestId('vote-countdown'), /^Còn lại\s+0:(1[0-2]|0\d)$/);
      await waitForText(wallVote.getByTestId('screen-vote-countdown'), /^0:(1[0-2]|0\d)$/, WALL);
      await vote(tablets.binh, meeting.id, q4, 'approve');
      await vote(tablets.em, meeting.id, q4, 'approve');
      await waitForText(v4.getByTestId('vote-status'), 'Đã có kết quả', { timeout: 30_000 });
      await waitForText(v4.getByTestId('vote-result').getByTestId('vote-verdict'), '✕ KHÔNG ĐƯỢC THÔNG QUA');
      await waitForText(v4.getByTestId('vote-result').getByTestId('vote-count-approve'), 'Tán thành\n2');
      await waitForText(wallVote.getByTestId('screen-vote-title'), 'Đề nghị bổ sung kinh phí hoạt động cho tổ hòa giải', WALL);
      await waitForText(wallVote.getByTestId('vote-verdict'), '✕ KHÔNG ĐƯỢC THÔNG QUA', WALL);

      // The election counted on paper: a hand count with its reason.
      const v3 = panel.locator(`[data-testid="vote-question"][data-question-id="${q3.id}"]`);
      await v3.getByTestId('vote-manual-toggle').click();
      const manual = v3.getByTestId('manual-form');
      await manual.getByTestId('manual-save').click();
      await waitForText(manual.getByTestId('manual-error'), 'Hãy ghi lý do.');
      await manual.getByTestId('manual-ballots').fill('5');
      for (const [i, n] of ['3', '2', '0'].entries()) await manual.getByTestId('manual-candidate').nth(i).fill(n);
      await manual.getByTestId('manual-reason').fill('Mất điện, kiểm phiếu trên giấy');
      await manual.getByTestId('manual-save').click();
      const r3 = v3.getByTestId('vote-result');
      await waitForText(r3.getByTestId('vote-manual'), /^✍ Kiểm phiếu thủ công\s+Mất điện, kiểm phiếu trên giấy/);
      await waitForText(r3.getByTestId('vote-verdict'), 'Trúng cử: Lê Văn Cường');
      assert.deepEqual(await r3.getByTestId('vote-candidate').allInnerTexts(), ['Lê Văn Cường\n3 phiếu\n✓ Trúng cử', 'Phạm Thị Dung\n2 phiếu\n', 'Hoàng Văn Em\n0 phiếu\n'].map((s) => s.trim()));
      await screenshots(page, 'vote-manual-console');
      await waitForText(wallVote.getByTestId('screen-vote-title'), 'Bầu tổ trưởng tổ hòa giải thôn 3', WALL);
      await waitForText(wallVote.getByTestId('vote-manual'), /^✍ Kiểm phiếu thủ công\s+Mất điện, kiểm phiếu trên giấy$/, WALL);
      await waitForText(wallVote.getByTestId('vote-verdict'), 'Trúng cử: Lê Văn Cường', WALL);
      await waitForText(wallVote.getByTestId('vote-candidate').first(), /^Lê Văn Cường\s+3 phiếu\s+✓ Trúng cử$/, WALL);
      await wallShot(wall, 'manual-election');
      // The desk marks it too.
      await waitForText(q3row.locator('.manual'), '✍ Kiểm phiếu thủ công');

      // After the close of the meeting the console still lists every result with its evidence.
      await page.getByTestId('end').click();
      await page.getByTestId('end-confirm').click();
      await waitForText(page.getByTestId('phase'), 'Đã bế mạc');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="vote-question"][data-status="closed"]').length === 4);
      await waitForCount(panel.getByTestId('vote-evidence'), 4);
      assert.equal(await panel.getByTestId('vote-open').count(), 0);
      await tv.close();
    }),
  );

  test("the chair's own tablet runs a vote from the console and votes on it", { timeout: 180_000 }, () =>
    withBoxLog(box, async () => {
      const { meeting: m, people: p } = await draftMeeting(desk, {
        people: [['an', 'Lý Văn Long'], ['giang', 'Đỗ Thị Giang'], ['hai', 'Vũ Văn Hải']],
        startsInMinutes: 5,
        chair: 'an',
        title: 'Phiên họp bất thường',
      });
      await desk.call('POST', `/api/meetings/${m.id}/items`, { title: 'Sửa chữa trụ sở UBND xã', presenter: 'Văn phòng' });
      await publishMeeting(desk, await apiAs(box, CHAIR), m.id);
      for (const key of ['an', 'giang', 'hai']) await desk.call('PUT', `/api/meetings/${m.id}/attendance/${p[key].id}`, { status: 'present' });
      const giang = await pairInNode(box, desk, p.giang, '3691');
      const hai = await pairInNode(box, desk, p.hai, '4702');

      // From the meeting page on the chair's tablet, one tap to the console.
      const chairTablet = await pairTablet(chrome.browser, desk, p.an, '5813');
      const page = chairTablet.page;
      await page.goto(`${box.origin}/meetings/${m.id}`);
      await page.getByTestId('open-console').click();
      await page.waitForURL(`${box.origin}/chair/meetings/${m.id}`);
      await page.getByTestId('start').click();
      await waitForText(page.getByTestId('phase'), 'Đang họp');

      // A motion from the floor, added and opened on the tablet.
      const panel = page.getByTestId('vote-panel');
      await panel.getByTestId('vote-add').click();
      await panel.getByTestId('q-title').fill('Đồng ý chủ trương sửa chữa trụ sở UBND xã');
      await panel.getByTestId('q-save').click();
      const q = panel.getByTestId('vote-question').first();
      await waitForText(q.getByTestId('vote-status'), 'Chưa biểu quyết');
      await q.getByTestId('vote-open').click();
      await waitForText(q.getByTestId('vote-cast'), 'Đã biểu quyết: 0 / 3 có mặt');
      const qid = await q.getAttribute('data-question-id');
      await vote(giang, m.id, qid, 'approve');
      await vote(hai, m.id, qid, 'disapprove');
      await waitForText(q.getByTestId('vote-cast'), 'Đã biểu quyết: 2 / 3 có mặt');
      // The chair votes too, on the same tablet: the ballot shows over the console.
      await waitForText(page.getByTestId('ballot-question'), 'Đồng ý chủ trương sửa chữa trụ sở UBND xã');
      await page.getByTestId('ballot-approve').click();
      await waitForText(page.getByTestId('ballot-confirm'), 'Xác nhận: Tán thành?');
      await page.waitForTimeout(450); // a sooner tap counts as the second tap of a double tap
      await page.getByTestId('ballot-send').click();
      await waitForText(page.getByTestId('ballot-accepted').locator('.done-title'), '✓ Đã ghi nhận phiếu của bạn');
      await waitForText(q.getByTestId('vote-cast'), 'Đã biểu quyết: 3 / 3 có mặt');
      await page.getByTestId('ballot-close').click();
      await q.getByTestId('vote-close').click();
      await q.getByTestId('vote-close-confirm').click();
      await waitForText(q.getByTestId('vote-status'), 'Đã có kết quả');
      const r = q.getByTestId('vote-result');
      await waitForText(r.getByTestId('vote-verdict'), '✓ ĐƯỢC THÔNG QUA');
      await waitForText(r.getByTestId('vote-rule'), 'Cơ sở tính: Tổng số thành viên (3)\nTỷ lệ: Quá 1/2 — cần 2 phiếu tán thành');
      await waitForText(r.getByTestId('vote-who-approve'), 'Tán thành (2): Đỗ Thị Giang, Lý Văn Long');
      await waitForText(r.getByTestId('vote-who-disapprove'), 'Không tán thành (1): Vũ Văn Hải');
      assert.equal(await page.getByTestId('vote-result-popup').count(), 0, 'the console shows the result in its panel, not over it');
      await screenshots(page, 'vote-chair-tablet');
      await chairTablet.context.close();
    }),
  );
});
