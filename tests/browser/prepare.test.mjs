// Preparing a meeting against the real box, in a real Chromium trusting the box's CA and under the
// app's CSP: the secretary builds the agenda (three items, reordered), uploads the fixture PDFs
// with their number/symbol and a new version, submits; the chair sends it back with a comment,
// then approves; the secretary publishes (late: the warning shows). A paired delegate sees the
// documents, opens one (pdf.js lazily loaded, page 1 drawn), finds "ngân sách" by typing
// "ngan sach", is brought back to the page last read, and sees "Đã cập nhật" after a change.
// A delegate who is not invited sees no meeting at all.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Box, REPO, addStaff, apiAs, launchChromium, newTablet, pairTablet, screenshots, waitForText, withBoxLog, waitForCount } from './helpers.mjs';

const ROOM = 'Phòng họp UBND xã Mường Báng';
const SECRETARY = { username: 'thuky', name: 'Đỗ Minh Quân', password: 'thuky-mat-khau-1', role: 'secretary' };
const CHAIR = { username: 'chutri', name: 'Lò Văn Thành', password: 'chutri-mat-khau-1', role: 'chair' };
const FIXTURES = path.join(REPO, 'tests', 'fixtures');



/** Uploads raw bytes the way the desk does (Node, trusting only the box's CA). */
function postFile(box, pathname, bytes, headers) {
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

/** A browser context signed in as staff, through the same call the sign-in screen makes. */
async function staffContext(browser, box, account) {
  const context = await newTablet(browser);
  const page = await context.newPage();
  await page.goto(`${box.origin}/`);
  const status = await page.evaluate(
    async ({ username, password }) =>
      (
        await fetch('/api/session', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ username, password }),
        })
      ).status,
    { username: account.username, password: account.password },
  );
  assert.equal(status, 200, `sign in as ${account.username}`);
  await page.close();
  return context;
}

/** Uncaught errors and CSP refusals in the page; network refusals the test provokes are fine. */
function watch(page) {
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = m.text();
    if (/Failed to load resource/.test(text)) return;
    problems.push(`console: ${text}`);
  });
  return problems;
}

/** A longer Vietnamese PDF made the way the fixtures were (Chromium's print to PDF). */
async function makePdf(browser, file, { title, paragraphs }) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const body = Array.from({ length: paragraphs }, (_, i) => `<p>Mục ${i + 1}. Điều chỉnh dự toán chi ngân sách xã năm 2026: tăng chi đầu tư phát triển cho đường giao thông nông thôn và trạm y tế xã.</p>`).join('');
    await page.setContent(`<!doctype html><html lang="vi"><meta charset="utf-8"><body style="font:15pt serif"><h1>${title}</h1>${body}</body></html>`);
    fs.writeFileSync(file, await page.pdf({ format: 'A4' }));
  } finally {
    await context.close();
  }
}


describe('preparing a meeting', () => {
  /** @type {Box} */
  let box;
  let chrome;
  let desk;
  const people = {};
  let meeting;
  let tmp;

  before(async () => {
    box = await Box.create({ room: ROOM });
    // A box whose uploads stop at 1 MB (the default is 200): the desk must say the box's limit,
    // not a number of its own. Every file this suite uploads is far smaller.
    fs.writeFileSync(path.join(box.dataDir, 'phonghop.toml'), 'max_upload_mb = 1\n');
    await addStaff(box, [SECRETARY, CHAIR]);
    chrome = await launchChromium(box.caPem);
    desk = await apiAs(box, SECRETARY);
    desk.origin = box.origin;
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'phonghop-prepare-'));
    for (const [key, name] of [
      ['chair', 'Lò Văn Thành'],
      ['an', 'Nguyễn Văn An'],
      ['binh', 'Trần Thị Bình'],
      ['ngoai', 'Võ Thị Ngoài'],
    ]) {
      people[key] = await desk.call('POST', '/api/people', { name, position: 'Ủy viên UBND xã' });
    }
    const body = await desk.call('POST', '/api/bodies', { name: 'UBND xã Mường Báng', kind: 'ubnd' });
    await desk.call('PUT', `/api/bodies/${body.id}/members`, { members: [people.chair.id, people.an.id, people.binh.id] });
    // The day after tomorrow: publishing today is late against the rule of 3 working days.
    const startsAt = new Date(Date.now() + 2 * 86_400_000);
    startsAt.setUTCHours(1, 0, 0, 0);
    meeting = await desk.call('POST', '/api/meetings', {
      body_id: body.id,
      title: 'Phiên họp UBND xã thường kỳ tháng 12',
      starts_at: startsAt.toISOString().replace('.000Z', 'Z'),
      chair_id: people.chair.id,
    });
    await makePdf(chrome.browser, path.join(tmp, 'to-trinh-du-toan-sua.pdf'), { title: 'TỜ TRÌNH (bản sửa)', paragraphs: 70 });
    await makePdf(chrome.browser, path.join(tmp, 'giay-moi-hop-sua.pdf'), { title: 'GIẤY MỜI (đổi giờ họp)', paragraphs: 3 });
  });

  after(async () => {
    await chrome?.close();
    await box?.destroy();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('the secretary prepares, the chair sends back then approves, the secretary publishes', { timeout: 240_000 }, () =>
    withBoxLog(box, async () => {
      const secContext = await staffContext(chrome.browser, box, SECRETARY);
      const chairContext = await staffContext(chrome.browser, box, CHAIR);
      try {
        const page = await secContext.newPage();
        const problems = watch(page);
        await page.goto(`${box.origin}/desk/meetings/${meeting.id}/prepare`);
        await waitForText(page.getByTestId('meeting-status'), /Bản nháp/);
        await waitForText(page.getByTestId('details-shown-title'), 'Phiên họp UBND xã thường kỳ tháng 12');
        await screenshots(page, 'prepare-1-empty');

        // Details: the place.
        await page.getByTestId('details-edit').click();
        await page.getByTestId('details-place').fill('Hội trường UBND xã');
        await page.getByTestId('details-save').click();
        await waitForText(page.getByTestId('details-shown-place'), 'Hội trường UBND xã');

        // Three agenda items.
        const items = [
          ['Tờ trình điều chỉnh dự toán ngân sách xã năm 2026', 'Công chức Tài chính - Kế toán', '30'],
          ['Báo cáo tình hình kinh tế - xã hội năm 2026', 'Phó Chủ tịch UBND xã', '45'],
          ['Khai mạc, thông qua chương trình', 'Chủ tịch UBND xã', '10'],
        ];
        for (const [title, presenter, minutes] of items) {
          await page.getByTestId('agenda-add').click();
          await page.getByTestId('item-title').fill(title);
          await page.getByTestId('item-presenter').fill(presenter);
          await page.getByTestId('item-minutes').fill(minutes);
          await page.getByTestId('item-save').click();
          await page.getByTestId('item-form').waitFor({ state: 'detached' });
        }
        const titles = () => page.getByTestId('item-title-shown').allInnerTexts();
        assert.deepEqual(await titles(), items.map((i) => i[0]));

        // "Khai mạc" goes first: two taps on ▲.
        for (let k = 0; k < 2; k++) {
          const last = page.getByTestId('agenda-item').filter({ hasText: 'Khai mạc' });
          await last.getByTestId('item-up').click();
          await waitForText(page.getByTestId('prep-notice'), 'Đã lưu thứ tự mới.');
        }
        assert.deepEqual(await titles(), [items[2][0], items[0][0], items[1][0]]);
        const onBox = await desk.call('GET', `/api/meetings/${meeting.id}`);
        assert.deepEqual(onBox.agenda.map((i) => i.title), [items[2][0], items[0][0], items[1][0]]);

        // Someone else reorders meanwhile; an old order sent from here is refused as stale and
        // the screen says so in Vietnamese (the live feed may already have shown the new order).
        const shown = onBox.agenda.map((i) => i.id);
        await desk.call('PUT', `/api/meetings/${meeting.id}/agenda`, { order: [shown[0], shown[2], shown[1]], expected: shown });
        const stale = await page.evaluate(
          async ({ id, order }) => {
            const r = await fetch(`/api/meetings/${id}/agenda`, {
              method: 'PUT',
              headers: { 'Content-Type': 'application/json' },
              body: JSON.stringify({ order, expected: order }),
            });
            return { status: r.status, body: await r.json() };
          },
          { id: meeting.id, order: shown },
        );
        assert.equal(stale.status, 409);
        assert.equal(stale.body.code, 'agenda.stale');
        await desk.call('PUT', `/api/meetings/${meeting.id}/agenda`, { order: shown, expected: [shown[0], shown[2], shown[1]] });
        await page.waitForFunction((want) => [...document.querySelectorAll('[data-testid="item-title-shown"]')].map((e) => e.textContent).join('|') === want, [items[2][0], items[0][0], items[1][0]].join('|'));

        // Documents: the fixtures, with number/symbol.
        const uploads = [
          ['Khai mạc', 'giay-moi-hop.pdf', 'Giấy mời họp', '35/GM-UBND'],
          ['Tờ trình', 'to-trinh-du-toan.pdf', 'Tờ trình điều chỉnh dự toán ngân sách', '12/TTr-UBND'],
          ['Báo cáo', 'bao-cao-kinh-te-xa-hoi.pdf', 'Báo cáo tình hình kinh tế - xã hội', '120/BC-UBND'],
        ];
        for (const [item, file, title, number] of uploads) {
          const row = page.getByTestId('agenda-item').filter({ hasText: item });
          await row.getByTestId('item-upload').click();
          await page.getByTestId('upload-file').setInputFiles(path.join(FIXTURES, file));
          await page.getByTestId('upload-title').fill(title);
          await page.getByTestId('upload-number').fill(number);
          await page.getByTestId('upload-submit').click();
          await waitForText(page.getByTestId('prep-notice'), `Đã tải lên "${title}".`, { timeout: 30_000 });
          await waitForText(row.getByTestId('doc-title'), title);
        }

        // The report goes to the chair and Trần Thị Bình only.
        const report = page.getByTestId('agenda-item').filter({ hasText: 'Báo cáo' });
        await report.getByTestId('doc-edit').click();
        await page.getByTestId('access-some').check();
        await page.getByTestId('doc-save').click();
        await waitForText(page.getByTestId('doc-edit-form').locator('.message.bad'), 'Hãy chọn ít nhất một người.');
        await page.getByTestId('doc-edit-form').getByLabel(/Lò Văn Thành/).check();
        await page.getByTestId('doc-edit-form').getByLabel(/Trần Thị Bình/).check();
        await page.getByTestId('doc-save').click();
        await waitForText(report.getByTestId('doc-access'), 'Chỉ 2 người được xem');
        const restricted = (await desk.call('GET', `/api/meetings/${meeting.id}`)).documents.find((d) => d.title.startsWith('Báo cáo'));
        assert.deepEqual([...restricted.restricted_to].sort(), [people.chair.id, people.binh.id].sort());

        // A file that says .pdf but is not one: refused, in Vietnamese, nothing stored.
        const fake = path.join(tmp, 'khong-phai-pdf.pdf');
        fs.writeFileSync(fake, 'Đây không phải là PDF');
        await page.getByTestId('agenda-item').filter({ hasText: 'Báo cáo' }).getByTestId('item-upload').click();
        await page.getByTestId('upload-file').setInputFiles(fake);
        await page.getByTestId('upload-title').fill('Tệp hỏng');
        await page.getByTestId('upload-submit').click();
        await waitForText(page.getByTestId('upload-error'), /không phải là PDF thật/);
        await screenshots(page, 'prepare-2-not-pdf');
        // A PDF over the box's limit: the box's own words, with its limit (1 MB here), nothing stored.
        const big = path.join(tmp, 'qua-lon.pdf');
        fs.writeFileSync(big, Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(1_600_000, 0x20)]));
        await page.getByTestId('upload-file').setInputFiles(big);
        await page.getByTestId('upload-title').fill('Tệp quá lớn');
        await page.getByTestId('upload-submit').click();
        await waitForText(page.getByTestId('upload-error'), 'Tệp lớn quá giới hạn 1 MB.', { timeout: 30_000 });
        await page.getByTestId('upload-form').getByRole('button', { name: 'Hủy' }).click();
        assert.equal((await desk.call('GET', `/api/meetings/${meeting.id}`)).documents.length, 3);

        // A new version of the submission (a longer PDF): version 2, version 1 in the history.
        const toTrinh = page.getByTestId('agenda-item').filter({ hasText: 'Tờ trình' });
        await toTrinh.getByTestId('doc-new-version').click();
        await page.getByTestId('upload-file').setInputFiles(path.join(tmp, 'to-trinh-du-toan-sua.pdf'));
        await page.getByTestId('upload-submit').click();
        await waitForText(page.getByTestId('prep-notice'), /Đã tải lên bản 2/, { timeout: 30_000 });
        await waitForText(toTrinh.getByTestId('doc-version'), 'Bản 2');
        await waitForText(toTrinh.getByTestId('doc-history'), 'Các bản trước (1)');
        await screenshots(page, 'prepare-3-agenda-and-documents');

        // Submit for review.
        await page.getByTestId('flow-submit').click();
        await waitForText(page.getByTestId('meeting-status'), /Chờ phê duyệt/);
        assert.equal(await page.getByTestId('agenda-add').count(), 0, 'no edits while the chair reviews');

        // The chair sends it back with a comment; the secretary sees it, prominently, live.
        const chairPage = await chairContext.newPage();
        const chairProblems = watch(chairPage);
        await chairPage.goto(`${box.origin}/desk/meetings/${meeting.id}/prepare`);
        await chairPage.getByTestId('flow-send-back').click();
        await chairPage.getByTestId('send-back-submit').click();
        await waitForText(chairPage.locator('.field-error'), 'Hãy ghi ý kiến để thư ký biết cần sửa gì.');
        await chairPage.getByTestId('send-back-comment').fill('Đề nghị bổ sung báo cáo thẩm tra của Ban Kinh tế - Ngân sách.');
        await chairPage.getByTestId('send-back-submit').click();
        await waitForText(chairPage.getByTestId('meeting-status'), /Bản nháp/);
        await waitForText(page.getByTestId('review-comment'), /Chủ trì đã trả lại\s+Đề nghị bổ sung báo cáo thẩm tra/);
        await screenshots(page, 'prepare-4-sent-back');

        // Submitted again; the chair approves; approving twice is refused in Vietnamese.
        await page.getByTestId('flow-submit').click();
        await waitForText(page.getByTestId('meeting-status'), /Chờ phê duyệt/);
        await chairPage.getByTestId('flow-approve').waitFor();
        await screenshots(chairPage, 'prepare-5-chair-review');
        await chairPage.getByTestId('flow-approve').click();
        await waitForText(chairPage.getByTestId('meeting-status'), /Đã phê duyệt/);
        const twice = await chairPage.evaluate(async (id) => (await fetch(`/api/meetings/${id}/approve`, { method: 'POST' })).json(), meeting.id);
        assert.equal(twice.code, 'meeting.wrong_status');

        // The secretary publishes: two days ahead is late against three working days.
        await waitForText(page.getByTestId('meeting-status'), /Đã phê duyệt/);
        await page.getByTestId('flow-publish').click();
        await waitForText(page.getByTestId('meeting-status'), /Đã phát hành/);
        await waitForText(page.getByTestId('publish-warning'), /^⚠\s*Phát hành muộn: chỉ còn \d+ ngày trước cuộc họp, quy định 3 ngày làm việc\.$/);
        await screenshots(page, 'prepare-6-published');

        assert.deepEqual(problems, []);
        assert.deepEqual(chairProblems, []);
      } finally {
        await secContext.close();
        await chairContext.close();
      }
    }));

  test('a delegate reads the published documents and finds words without accents', { timeout: 180_000 }, () =>
    withBoxLog(box, async () => {
      const { context, page } = await pairTablet(chrome.browser, desk, people.binh, '2580');
      try {
        const problems = watch(page);
        const pdfRequests = [];
        page.on('request', (r) => {
          if (/pdf\.worker|readerWorker|readerPdf/.test(r.url())) pdfRequests.push(r.url());
        });
        await page.goto(`${box.origin}/meetings/${meeting.id}`);
        await page.getByTestId('meeting-documents').waitFor();
        await waitForText(page.getByTestId('docs-published'), /^Tài liệu phát hành ngày \d{2}\/\d{2}\/\d{4}, trước cuộc họp [12] ngày\.$/);
        const rows = page.getByTestId('delegate-doc');
        await waitForCount(rows, 3);
        assert.equal(pdfRequests.length, 0, 'pdf.js is not loaded before a document opens');
        const box1 = await rows.first().getByTestId('delegate-doc-open').boundingBox();
        assert.ok(box1 && box1.height >= 64, `a document is a big target: ${JSON.stringify(box1)}`);
        await screenshots(page, 'prepare-7-delegate-documents');

        // Open the submission: pdf.js arrives now, page 1 is drawn.
        const toTrinh = rows.filter({ hasText: 'Tờ trình điều chỉnh dự toán ngân sách' });
        await toTrinh.getByTestId('delegate-doc-open').click();
        await page.waitForURL(/\/read\//);
        await page.getByTestId('reader-page-1').locator('canvas').waitFor({ timeout: 30_000 });
        assert.ok(pdfRequests.some((u) => /readerPdf/.test(u)), 'the pdf.js chunk loads on open');
        assert.ok(pdfRequests.some((u) => /readerWorker/.test(u)), 'the worker is our same-origin bundle');
        // The canvas on page 1 has ink (read in one go: a redraw may replace the canvas).
        const drawn = await (
          await page.waitForFunction(() => {
            const c = document.querySelector('[data-testid="reader-page-1"] canvas');
            if (!(c instanceof HTMLCanvasElement) || c.width === 0) return null;
            const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
            let dark = 0;
            for (let i = 0; i < data.length; i += 4) if (data[i] < 128) dark++;
            return { w: c.width, dark };
          })
        ).jsonValue();
        assert.ok(drawn.w > 100 && drawn.dark > 500, `page 1 has ink: ${JSON.stringify(drawn)}`);
        const pages = Number((await page.getByTestId('reader-page').innerText()).match(/\/(\d+)/)?.[1]);
        assert.ok(pages >= 3, `the new version has several pages (${pages})`);
        // Pages far away are not drawn.
        assert.equal(await page.getByTestId(`reader-page-${pages}`).locator('canvas').count(), 0, 'the last page is not drawn yet');

        // "ngan sach" finds "ngân sách" (and "Ngân sách"), highlighted, across pages.
        await page.getByTestId('reader-search-toggle').click();
        await page.getByTestId('reader-search-input').fill('ngan sach');
        await page.getByTestId('reader-search-go').click();
        const count = await waitForText(page.getByTestId('reader-search-count'), /^Kết quả 1\/\d+$/, { timeout: 30_000 });
        const total = Number(count.split('/')[1]);
        assert.ok(total >= 70, `one hit per paragraph at least: ${count}`);
        await page.locator('mark.hit.selected').first().waitFor();
        assert.match((await page.locator('mark.hit').first().textContent()) ?? '', /^ngân sách$/i);
        // Jump to a later hit: the reader follows to its page.
        for (let k = 0; k < 40; k++) await page.getByTestId('reader-search-next').click();
        await waitForText(page.getByTestId('reader-search-count'), `Kết quả 41/${total}`);
        await page.waitForFunction(() => /Trang [2-9]/.test(document.querySelector('[data-testid="reader-page"]')?.textContent ?? ''));
        await page.locator('mark.hit.selected').first().waitFor();
        await screenshots(page, 'prepare-8-reader-search');
        // With "match accents", a query without accents finds nothing.
        await page.getByText('Phân biệt dấu').click();
        await waitForText(page.getByTestId('reader-search-count'), 'Không tìm thấy "ngan sach".');
        const readPage = (await page.getByTestId('reader-page').innerText()).trim();

        // Reopening brings the delegate back to the same page.
        await page.reload();
        await page.getByTestId('reader-resumed').waitFor({ timeout: 30_000 });
        await waitForText(page.getByTestId('reader-page'), readPage);

        // The earlier version is one tap away, and says it is not the latest.
        await page.getByTestId('reader-back').click();
        await page.waitForURL(`${box.origin}/meetings/${meeting.id}`);
        await toTrinh.locator('summary').click();
        await toTrinh.getByRole('link', { name: /^Bản 1/ }).click();
        await waitForText(page.getByTestId('reader-old-version'), 'Bạn đang xem bản 1, không phải bản mới nhất.');
        await page.getByTestId('reader-page-1').locator('canvas').waitFor({ timeout: 30_000 });

        // A change after publishing is marked for the delegate.
        const m = await desk.call('GET', `/api/meetings/${meeting.id}`);
        const invitation = m.documents.find((d) => d.title === 'Giấy mời họp');
        const bytes = fs.readFileSync(path.join(tmp, 'giay-moi-hop-sua.pdf'));
        const up = await postFile(box, `/api/documents/${invitation.id}/versions`, bytes, {
          Cookie: desk.cookie,
          'Content-Type': 'application/pdf',
          'X-File-Name': encodeURIComponent('giấy mời họp (sửa).pdf'),
        });
        assert.equal(up.status, 201, up.text);
        await page.goto(`${box.origin}/meetings/${meeting.id}`);
        const updated = page.getByTestId('delegate-doc').filter({ hasText: 'Giấy mời họp' });
        await waitForText(updated.getByTestId('doc-updated-badge'), '↻ Đã cập nhật');
        await waitForCount(page.getByTestId('doc-updated-badge'), 1, { message: 'only the changed document is marked' });
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    }));

  test('the reader works where Promise.withResolvers and friends are missing (Safari 16, Chrome 100)', { timeout: 90_000 }, () =>
    withBoxLog(box, async () => {
      const { context, page } = await pairTablet(chrome.browser, desk, people.an, '3691');
      try {
        await context.addInitScript(() => {
          delete Promise.withResolvers;
          delete AbortSignal.any;
          delete Array.prototype.toSpliced;
        });
        const problems = watch(page);
        // Nguyễn Văn An is not among those the report was restricted to.
        await page.goto(`${box.origin}/meetings/${meeting.id}`);
        await page.getByTestId('meeting-documents').waitFor();
        await waitForCount(page.getByTestId('delegate-doc'), 2);
        assert.equal(await page.getByTestId('delegate-doc').filter({ hasText: 'Báo cáo' }).count(), 0);
        const m = await desk.call('GET', `/api/meetings/${meeting.id}`);
        const submission = m.documents.find((d) => d.title.startsWith('Tờ trình'));
        await page.goto(`${box.origin}/read/${meeting.id}/${submission.id}`);
        await page.getByTestId('reader-page-1').locator('canvas').waitFor({ timeout: 30_000 });
        assert.equal(await page.evaluate(() => typeof Promise.withResolvers), 'function', 'our polyfill is in place once the reader loads');
        await page.getByTestId('reader-search-toggle').click();
        await page.getByTestId('reader-search-input').fill('duong giao thong');
        await page.getByTestId('reader-search-go').click();
        await waitForText(page.getByTestId('reader-search-count'), /^Kết quả 1\/\d+$/);
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    }));

  test('a delegate who is not invited sees no meeting at all', { timeout: 90_000 }, () =>
    withBoxLog(box, async () => {
      const { context, page } = await pairTablet(chrome.browser, desk, people.ngoai, '4826');
      try {
        await page.getByTestId('meetings-none').waitFor();
        assert.equal(await page.getByTestId('meeting-card').count(), 0);
        const m = await desk.call('GET', `/api/meetings/${meeting.id}`);
        const doc = m.documents[0];
        const answers = await page.evaluate(
          async ({ id, url }) => ({
            list: (await (await fetch('/api/meetings')).json()).meetings.length,
            one: (await fetch(`/api/meetings/${id}`)).status,
            blob: (await fetch(url)).status,
          }),
          { id: meeting.id, url: doc.versions[0].url },
        );
        assert.deepEqual(answers, { list: 0, one: 404, blob: 404 });
        await page.goto(`${box.origin}/meetings/${meeting.id}`);
        await page.getByTestId('meeting-not-found').waitFor();
        await page.goto(`${box.origin}/read/${meeting.id}/${doc.id}`);
        await page.getByTestId('reader-not-found').waitFor();
        await screenshots(page, 'prepare-9-not-invited');
      } finally {
        await context.close();
      }
    }));
});
