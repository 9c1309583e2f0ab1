// The delegate's landing page in a real Chromium that trusts the box's CA, against the real box.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Box, launchChromium, newTablet, screenshots, waitForText } from './helpers.mjs';

const ROOM = 'Phòng họp UBND xã Tân Phú';

/** Appends the box's log to a failure, so a red test says what the server did. */
async function withBoxLog(boxes, fn) {
  try {
    await fn();
  } catch (e) {
    for (const box of boxes()) e.message += `\n--- phonghop log (${box.dataDir}) ---\n${box.logTail()}`;
    throw e;
  }
}

describe('delegate landing page', () => {
  /** @type {Box} */
  let box;
  let chrome;
  const extraBoxes = [];

  before(async () => {
    box = await Box.create({ room: ROOM });
    chrome = await launchChromium(box.caPem);
  });

  after(async () => {
    await chrome?.close();
    for (const b of [box, ...extraBoxes]) await b?.destroy();
  });

  test('shows the room, a live connection, and switches to English for good', { timeout: 60_000 }, () =>
    withBoxLog(() => [box], async () => {
      const context = await newTablet(chrome.browser);
      try {
        const page = await context.newPage();
        const requested = [];
        const problems = [];
        page.on('request', (r) => requested.push(r.url()));
        page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
        page.on('pageerror', (e) => problems.push(String(e)));
        const response = await page.goto(`${box.origin}/`);
        assert.equal(response?.status(), 200);
        assert.equal(await page.evaluate(() => window.isSecureContext), true, 'page must be a secure context');
        assert.equal(await page.evaluate(() => location.protocol), 'https:');

        await waitForText(page.getByTestId('room-name'), ROOM);
        const status = page.getByTestId('connection-status');
        await waitForText(status, 'Đã kết nối');
        assert.equal(await page.evaluate(() => document.documentElement.lang), 'vi');
        assert.equal(await page.title(), ROOM);
        await waitForText(page.getByTestId('notice-none'), 'Hiện chưa có thông báo.');
        for (const name of ['Tiếng Việt', 'English']) {
          const size = await page.getByRole('button', { name }).boundingBox();
          assert.ok(size && size.width >= 48 && size.height >= 48, `${name} button is a 48 px touch target: ${JSON.stringify(size)}`);
        }
        await screenshots(page, '1-connected-vi');

        await page.getByRole('button', { name: 'English' }).click();
        await waitForText(status, 'Connected');
        assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
        await screenshots(page, '2-connected-en');

        await page.reload();
        await waitForText(page.getByTestId('room-name'), ROOM);
        await waitForText(status, 'Connected');
        assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
        assert.equal(await page.getByRole('button', { name: 'English' }).getAttribute('aria-pressed'), 'true');

        // Back to Vietnamese works too.
        await page.getByRole('button', { name: 'Tiếng Việt' }).click();
        await waitForText(status, 'Đã kết nối');

        // Nothing loads from outside the box, and nothing went wrong in the page.
        const outside = requested.filter((u) => !u.startsWith(`${box.origin}/`) && !u.startsWith('data:'));
        assert.deepEqual(outside, [], 'requests outside the box');
        assert.deepEqual(problems, [], 'console errors in the page');
      } finally {
        await context.close();
      }
    }));

  test('shows a notice from the secretary live, without a reload', { timeout: 60_000 }, () =>
    withBoxLog(() => [box], async () => {
      const context = await newTablet(chrome.browser);
      try {
        const page = await context.newPage();
        await page.goto(`${box.origin}/`);
        await waitForText(page.getByTestId('connection-status'), 'Đã kết nối');
        await page.evaluate(() => {
          window.__samePage = true;
        });

        const text = 'Cuộc họp bắt đầu lúc 8 giờ';
        await box.postNotice(text);

        await waitForText(page.getByTestId('notice-text'), text, { timeout: 10_000 });
        assert.equal(await page.evaluate(() => window.__samePage), true, 'the page must not have reloaded');
        await screenshots(page, '3-notice-vi');
      } finally {
        await context.close();
      }
    }));

  test('a browser that has not installed the box CA refuses the box', { timeout: 60_000 }, async () => {
    // Shows the passing tests above owe their secure context to the installed root, not to luck.
    const untrusting = await launchChromium(null);
    try {
      const page = await untrusting.browser.newPage();
      await assert.rejects(page.goto(`${box.origin}/`), /ERR_CERT_AUTHORITY_INVALID/);
    } finally {
      await untrusting.close();
    }
  });

  test('says when the box is gone and reconnects by itself when it is back', { timeout: 120_000 }, async () => {
    const own = await Box.create({ room: ROOM });
    extraBoxes.push(own);
    const ownChrome = await launchChromium(own.caPem);
    await withBoxLog(() => [own], async () => {
      const context = await newTablet(ownChrome.browser);
      try {
        const page = await context.newPage();
        await page.goto(`${own.origin}/`);
        const status = page.getByTestId('connection-status');
        await waitForText(status, 'Đã kết nối');
        await page.evaluate(() => {
          window.__samePage = true;
        });

        const port = own.port;
        const exit = await own.stop();
        assert.ok(exit, 'the box process should have exited');
        await waitForText(status, /^(Đang kết nối lại…|Mất kết nối)/, { timeout: 15_000 });
        await screenshots(page, '4-reconnecting-vi');

        // The tablet's own Wi-Fi drops too: "offline" at once, and back to trying when it returns.
        await context.setOffline(true);
        await waitForText(status, /^Mất kết nối/, { timeout: 5_000 });
        await screenshots(page, '5-offline-vi');
        await context.setOffline(false);
        await waitForText(status, /^(Đang kết nối lại…|Mất kết nối)/, { timeout: 5_000 });

        await own.start({ httpsPort: port });
        await waitForText(status, 'Đã kết nối', { timeout: 30_000 });
        await waitForText(page.getByTestId('room-name'), ROOM);

        const text = 'Tiếp tục họp sau giờ nghỉ';
        await own.postNotice(text);
        await waitForText(page.getByTestId('notice-text'), text, { timeout: 10_000 });
        assert.equal(await page.evaluate(() => window.__samePage), true, 'the page must not have reloaded');
      } finally {
        await context.close();
        await ownChrome.close();
      }
    });
  });
});
