// How many GETs one change costs when many tablets watch a meeting (issue 7, item 4).
// A real box, real Chromium pages (the chair's console, the secretary's attendance desk and the
// preparation screen, which run the same feed code as the delegate's tablet) plus raw SSE clients
// on the same meeting feed, up to N in all. The secretary marks one person present; we wait until
// every feed has the event and the pages show it, then read the box's /metrics.
// Usage: node benches/live-tablets.mjs [N=500]   (needs `cargo build --bin phonghop` and web/dist;
// PHONGHOP_BIN picks another binary, e.g. target/release/phonghop)
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { BIN, Box, launchChromium, newTablet } from '../tests/browser/helpers.mjs';

const N = Number(process.argv[2] ?? 500);
const PAGES = 3;

async function main() {
  const box = await Box.create({ room: 'Phòng họp đo hiệu năng' });
  let chrome;
  const raws = [];
  try {
    await box.stop();
    execFileSync(BIN, ['admin', 'create', '--data', box.dataDir, '--username', 'thuky', '--name', 'Thư ký', '--role', 'secretary', '--password', 'thuky-bench'], { stdio: 'pipe' });
    await box.start();
    const res = await box.request('POST', '/api/session', { json: { username: 'thuky', password: 'thuky-bench' }, headers: { Origin: box.origin } });
    const cookie = [].concat(res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).find((c) => c.startsWith('phonghop_session='));
    const call = async (method, p, json) => {
      const r = await box.request(method, p, { json, headers: { Cookie: cookie, Origin: box.origin } });
      assert.ok(r.status < 300, `${method} ${p} → ${r.status} ${r.text}`);
      return r.json;
    };
    const people = [];
    for (let i = 0; i < 30; i++) people.push(await call('POST', '/api/people', { name: `Đại biểu Số ${i + 1}` }));
    const body = await call('POST', '/api/bodies', { name: 'HĐND xã', kind: 'hdnd' });
    await call('PUT', `/api/bodies/${body.id}/members`, { members: people.map((p) => p.id) });
    const meeting = await call('POST', '/api/meetings', { body_id: body.id, title: 'Kỳ họp', starts_at: new Date(Date.now() + 3_600_000).toISOString() });

    chrome = await launchChromium(box.caPem);
    const context = await newTablet(chrome.browser);
    const page0 = await context.newPage();
    await page0.goto(`${box.origin}/`);
    await page0.evaluate(() =>
      fetch('/api/session', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: 'thuky', password: 'thuky-bench' }) }),
    );
    const pages = [];
    for (const p of [`/chair/meetings/${meeting.id}`, `/desk/meetings/${meeting.id}/attendance`, `/desk/meetings/${meeting.id}/prepare`]) {
      const page = await context.newPage();
      await page.goto(`${box.origin}${p}`);
      pages.push(page);
    }
    await pages[1].getByTestId('attendance-rows').waitFor();

    // Raw SSE clients on the same feed, as tablets that only listen.
    const ca = box.caPem;
    let got = 0;
    for (let i = 0; i < N - PAGES; i++) {
      raws.push(
        new Promise((resolve) => {
          const req = https.get(
            { host: 'localhost', port: box.port, path: `/api/meetings/${meeting.id}/events`, ca, headers: { Accept: 'text/event-stream', Cookie: cookie }, agent: false },
            (r) => {
              r.setEncoding('utf8');
              let seen = false;
              r.on('data', (chunk) => {
                if (!seen && chunk.includes('event: attendance.marked')) {
                  seen = true;
                  got += 1;
                }
              });
              resolve(req);
            },
          );
          req.on('error', () => resolve(req));
        }),
      );
    }
    const reqs = await Promise.all(raws);
    await sleep(2_000);
    const metric = async () => {
      const m = (await box.request('GET', '/metrics')).text;
      const gets = [...m.matchAll(/^phonghop_api_requests_total\{family="(\w+)",method="GET"\} (\d+)$/gm)].reduce((n, x) => n + Number(x[2]), 0);
      const live = Number(/^phonghop_live_clients (\d+)$/m.exec(m)?.[1] ?? 0);
      return { gets, live };
    };
    const before = await metric();
    const t0 = Date.now();
    await call('PUT', `/api/meetings/${meeting.id}/attendance/${people[0].id}`, { status: 'present' });
    while (got < N - PAGES && Date.now() - t0 < 30_000) await sleep(20);
    const allRaw = Date.now() - t0;
    await pages[0].waitForFunction(() => document.querySelector('[data-testid="chair-count-present"] .c-n')?.textContent?.trim() === '1', null, { timeout: 30_000 });
    await sleep(1_000);
    const afterM = await metric();
    console.log(`feeds open: ${before.live} (${PAGES} Chromium pages + ${N - PAGES} raw SSE clients; the pages' room feeds count too)`);
    console.log(`one attendance change reached ${got}/${N - PAGES} raw feeds in ${allRaw} ms; the pages showed it`);
    console.log(`API GETs on the box caused by the change: ${afterM.gets - before.gets}`);
    for (const r of reqs) r.destroy();
  } finally {
    await chrome?.close();
    await box.destroy();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
