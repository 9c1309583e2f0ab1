// Browser-test helpers: the REAL phonghop binary on a fresh data dir, and a real Chromium that
// trusts the box's own root CA through an NSS db in a temp HOME (no ignoreHTTPSErrors, ever).
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createHash, randomBytes, webcrypto } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';

export const REPO = path.resolve(import.meta.dirname, '..', '..');
export const BIN = process.env.PHONGHOP_BIN ?? path.join(REPO, 'target', 'debug', 'phonghop');
export const CHROMIUM = process.env.PHONGHOP_CHROMIUM ?? '/usr/bin/chromium';
/** Set to a directory to keep one screenshot per state and viewport there. */
export const SHOTS_DIR = process.env.PHONGHOP_SCREENSHOTS || null;
const KEEP_TMP = Boolean(process.env.PHONGHOP_KEEP_TMP);

/** Tablet landscape, tablet portrait, phone. */
export const VIEWPORTS = [
  { width: 1024, height: 768 },
  { width: 768, height: 1024 },
  { width: 390, height: 844 },
];

// Whatever happens (failed assertion, crash), no server is left running.
const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

async function tempDir(prefix) {
  return fsp.mkdtemp(path.join(os.tmpdir(), prefix));
}

async function removeDir(dir) {
  if (!KEEP_TMP) await fsp.rm(dir, { recursive: true, force: true });
}

/** One box: a data dir and, while started, a `phonghop serve` process on it. */
export class Box {
  /** @type {import('node:child_process').ChildProcess | null} */
  #child = null;
  #log = [];

  constructor(dataDir, room, adminPassword, { hub = false } = {}) {
    this.dataDir = dataDir;
    this.room = room;
    this.adminPassword = adminPassword;
    /** A central office (`phonghop init --hub`, `phonghop hub`) rather than a room box. */
    this.hub = hub;
    /** @type {{https_port: number, http_port: number, https_url: string, pid: number} | null} */
    this.serving = null;
    /** @type {string | null} */
    this.caPem = null;
  }

  /**
   * `phonghop init` on a fresh data dir (so the admin password is known), then `serve`. With
   * `hub`, a central office (`init --hub`, then `phonghop hub` with its sync port); with
   * `start: false`, the data dir only (e.g. to enrol it before it serves).
   */
  static async create({ room, adminPassword = 'mat-khau-thu-nghiem-1', hub = false, start = true }) {
    if (!fs.existsSync(BIN)) {
      throw new Error(`phonghop binary not found at ${BIN} (build it with \`cargo build\`, or set PHONGHOP_BIN)`);
    }
    const dataDir = await tempDir('phonghop-data-');
    const box = new Box(dataDir, room, adminPassword, { hub });
    try {
      execFileSync(BIN, ['init', ...(hub ? ['--hub'] : []), '--data', dataDir, '--room', room, '--admin-password', adminPassword], {
        stdio: 'pipe',
        timeout: 60_000,
      });
    } catch (e) {
      await removeDir(dataDir);
      throw new Error(`phonghop init failed: ${e.message}\n${e.stderr ?? ''}${e.stdout ?? ''}`);
    }
    if (start) await box.start();
    return box;
  }

  get port() {
    if (!this.serving) throw new Error('box is not serving');
    return this.serving.https_port;
  }

  /** The origin the browser and API calls use: the box's CA must vouch for "localhost". */
  get origin() {
    return `https://localhost:${this.port}`;
  }

  /** Starts `phonghop serve` (with `args` added, e.g. `--demo`) and waits for `<data>/serving.json`. */
  async start({ httpsPort = 0, args: extra = [] } = {}) {
    if (this.#child) throw new Error('box already started');
    const servingPath = path.join(this.dataDir, 'serving.json');
    await fsp.rm(servingPath, { force: true }); // a stale one from the previous run must not count
    const args = [this.hub ? 'hub' : 'serve', '--data', this.dataDir, '--https-port', String(httpsPort), '--http-port', '0', '--mdns', 'off', '--room', this.room];
    if (this.hub) args.push('--sync-port', '0');
    args.push(...extra);
    const child = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RUST_BACKTRACE: '1' } });
    children.add(child);
    this.#child = child;
    const keep = (chunk) => {
      this.#log.push(chunk.toString());
      if (this.#log.length > 400) this.#log.splice(0, 200);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    child.exitPromise = exited;
    exited.then(() => children.delete(child));

    const deadline = Date.now() + 30_000;
    let early = null;
    exited.then((r) => (early = r));
    while (Date.now() < deadline) {
      if (early) {
        this.#child = null;
        throw new Error(`phonghop serve exited early (${JSON.stringify(early)}):\n${this.logTail()}`);
      }
      try {
        const serving = JSON.parse(await fsp.readFile(servingPath, 'utf8'));
        if (serving.https_port) {
          this.serving = serving;
          break;
        }
      } catch {
        // not written yet, or half written
      }
      await sleep(100);
    }
    if (!this.serving) {
      await this.stop();
      throw new Error(`no ${servingPath} after 30 s:\n${this.logTail()}`);
    }
    if (httpsPort && this.serving.https_port !== httpsPort) {
      throw new Error(`asked for https port ${httpsPort}, serving.json says ${this.serving.https_port}`);
    }
    this.caPem = await fsp.readFile(path.join(this.dataDir, 'tls', 'root.pem'), 'utf8');
  }

  /** SIGTERM, and SIGKILL if the box has not stopped after 10 s. Returns the exit status. */
  async stop() {
    const child = this.#child;
    if (!child) return null;
    this.#child = null;
    if (child.exitCode !== null || child.signalCode !== null) return child.exitPromise;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const result = await child.exitPromise;
    clearTimeout(timer);
    return result;
  }

  /** Stops the box and removes its data dir. */
  async destroy() {
    await this.stop();
    await removeDir(this.dataDir);
  }

  logTail(lines = 40) {
    return this.#log.join('').split('\n').slice(-lines).join('\n');
  }

  /** An HTTPS request from Node, trusting only the box's CA. */
  request(method, pathname, { json, headers = {} } = {}) {
    const body = json === undefined ? undefined : Buffer.from(JSON.stringify(json));
    return new Promise((resolve, reject) => {
      const req = https.request(
        `${this.origin}${pathname}`,
        {
          method,
          ca: this.caPem,
          headers: {
            Accept: 'application/json',
            ...(body ? { 'Content-Type': 'application/json', 'Content-Length': body.length } : {}),
            ...headers,
          },
        },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed = null;
            try {
              parsed = text ? JSON.parse(text) : null;
            } catch {
              // not JSON
            }
            resolve({ status: res.statusCode, headers: res.headers, text, json: parsed });
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Logs in as admin; returns the `phonghop_session=…` cookie pair. */
  async loginAdmin() {
    const res = await this.request('POST', '/api/session', {
      json: { username: 'admin', password: this.adminPassword },
      headers: { Origin: this.origin },
    });
    if (res.status < 200 || res.status >= 300) {
      throw new Error(`POST /api/session → ${res.status} ${res.text}`);
    }
    const cookies = [].concat(res.headers['set-cookie'] ?? []);
    const pair = cookies.map((c) => c.split(';')[0].trim()).find((c) => c.startsWith('phonghop_session='));
    if (!pair) throw new Error(`POST /api/session set no phonghop_session cookie: ${JSON.stringify(cookies)}`);
    return pair;
  }

  /** The secretary's notice to the whole room, as admin. */
  async postNotice(text, cookie) {
    const session = cookie ?? (await this.loginAdmin());
    const res = await this.request('POST', '/api/room/notices', {
      json: { text },
      headers: { Cookie: session, Origin: this.origin },
    });
    if (res.status < 200 || res.status >= 300) {
      throw new Error(`POST /api/room/notices → ${res.status} ${res.text}`);
    }
    return res;
  }
}

/**
 * A temp HOME whose NSS db trusts `caPem` as a root, as a tablet that installed the box's CA.
 * With `caPem` null the db trusts nothing: a tablet that skipped that step. An array of PEMs:
 * a computer trusting several roots (a hub's and a room box's).
 */
export async function homeTrusting(caPem) {
  const home = await tempDir('phonghop-home-');
  const nssdb = path.join(home, '.pki', 'nssdb');
  await fsp.mkdir(nssdb, { recursive: true });
  execFileSync('certutil', ['-d', `sql:${nssdb}`, '-N', '--empty-password'], { stdio: 'pipe' });
  const roots = caPem === null ? [] : [].concat(caPem);
  for (const [i, pem] of roots.entries()) {
    const caFile = path.join(home, `phonghop-root-${i}.pem`);
    await fsp.writeFile(caFile, pem);
    execFileSync('certutil', ['-d', `sql:${nssdb}`, '-A', '-t', 'C,,', '-n', i === 0 ? 'phonghop-root' : `phonghop-root-${i}`, '-i', caFile], { stdio: 'pipe' });
  }
  return home;
}

/** Debian's Chromium with HOME pointing at an NSS db that trusts the box's root (or, with null, nothing). */
export async function launchChromium(caPem) {
  const home = await homeTrusting(caPem);
  let browser;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
      env: { ...process.env, HOME: home },
    });
  } catch (e) {
    await removeDir(home);
    throw e;
  }
  return {
    browser,
    async close() {
      await browser.close().catch(() => {});
      await removeDir(home);
    },
  };
}

/** A fresh tablet-sized context (its own localStorage), in Vietnam's time zone. */
export async function newTablet(browser) {
  return browser.newContext({
    viewport: VIEWPORTS[0],
    locale: 'vi-VN',
    timezoneId: 'Asia/Ho_Chi_Minh',
  });
}

/** Waits until the locator's visible text equals (or matches) `expected`. */
export async function waitForText(locator, expected, { timeout = 20_000 } = {}) {
  const deadline = Date.now() + timeout;
  let last = '(not found)';
  while (Date.now() < deadline) {
    if (await locator.isVisible().catch(() => false)) {
      last = (await locator.innerText().catch(() => '')).trim();
      if (expected instanceof RegExp ? expected.test(last) : last === expected) return last;
    }
    await sleep(100);
  }
  throw new Error(`expected ${locator} to read ${JSON.stringify(String(expected))} within ${timeout} ms; it read ${JSON.stringify(last)}`);
}

/**
 * Waits until the locator matches exactly `expected` elements. Live screens receive their
 * state over the feed, so a count read at once can see an update half-applied.
 */
export async function waitForCount(locator, expected, { timeout = 20_000, message = '' } = {}) {
  const deadline = Date.now() + timeout;
  let last = -1;
  while (Date.now() < deadline) {
    last = await locator.count().catch(() => -1);
    if (last === expected) return;
    await sleep(100);
  }
  throw new Error(`${message ? message + ': ' : ''}expected ${locator} to match ${expected} element(s) within ${timeout} ms; it matched ${last}`);
}

/** When PHONGHOP_SCREENSHOTS is set: one PNG of the page per viewport, named after the state. */
export async function screenshots(page, state) {
  if (!SHOTS_DIR) return;
  await fsp.mkdir(SHOTS_DIR, { recursive: true });
  const original = page.viewportSize();
  for (const vp of VIEWPORTS) {
    await page.setViewportSize(vp);
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    await page.screenshot({ path: path.join(SHOTS_DIR, `${state}-${vp.width}x${vp.height}.png`), fullPage: true, animations: 'disabled' });
  }
  if (original) await page.setViewportSize(original);
}

/** Runs a test body and, when it fails, adds the tail of the box's log to the message. */
export async function withBoxLog(box, fn) {
  try {
    await fn();
  } catch (e) {
    e.message += `\n--- phonghop log (${box.dataDir}) ---\n${box.logTail()}`;
    throw e;
  }
}

/** Signs in over the API; `call` makes authenticated requests from this box's origin. */
export async function apiAs(box, { username, password }) {
  const res = await box.request('POST', '/api/session', { json: { username, password }, headers: { Origin: box.origin } });
  assert.equal(res.status, 200, `sign in as ${username}: ${res.text}`);
  const cookie = [].concat(res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).find((c) => c.startsWith('phonghop_session='));
  assert.ok(cookie, 'a session cookie');
  const call = async (method, pathname, json) => {
    const r = await box.request(method, pathname, { json, headers: { Cookie: cookie, Origin: box.origin } });
    assert.ok(r.status >= 200 && r.status < 300, `${method} ${pathname} → ${r.status} ${r.text}`);
    return r.json;
  };
  return { cookie, call, origin: box.origin };
}

/** Pairs a fresh tablet for `person` through /pair with the secretary's code and a PIN. */
export async function pairTablet(browser, desk, person, pin) {
  const context = await newTablet(browser);
  const page = await context.newPage();
  const { code } = await desk.call('POST', `/api/people/${person.id}/pairing-code`);
  await page.goto(`${desk.origin}/pair?code=${code}`);
  await page.getByTestId('pin').fill(pin);
  await page.getByTestId('pair-submit').click();
  await page.getByTestId('confirm-pin').fill(pin);
  await page.getByTestId('confirm-submit').click();
  await page.waitForURL(`${desk.origin}/meetings`);
  return { context, page };
}

/** Creates staff accounts with `phonghop admin create` (the box is stopped for it, then started). */
export async function addStaff(box, accounts) {
  await box.stop();
  for (const a of accounts) {
    execFileSync(BIN, ['admin', 'create', '--data', box.dataDir, '--username', a.username, '--name', a.name, '--role', a.role, '--password', a.password], {
      stdio: 'pipe',
      timeout: 60_000,
    });
  }
  await box.start();
}

/** A PDF with one page per HTML section in `pages`, printed by Chromium. */
export async function printPdf(browser, pages, { style = '' } = {}) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const body = pages.map((html) => `<section style="break-after:page">${html}</section>`).join('');
    await page.setContent(`<!doctype html><html lang="vi"><meta charset="utf-8"><body style="${style}">${body}</body></html>`);
    return await page.pdf({ format: 'A4' });
  } finally {
    await context.close();
  }
}

/** Uploads a PDF's bytes the way the desk does (a raw body, the file name in a header). */
export function uploadPdf(box, cookie, pathname, bytes, fileName = 'to-trinh.pdf') {
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${box.origin}${pathname}`,
      {
        method: 'POST',
        ca: box.caPem,
        headers: { Accept: 'application/json', Origin: box.origin, Cookie: cookie, 'Content-Type': 'application/pdf', 'X-File-Name': fileName, 'Content-Length': bytes.length },
      },
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

/** Every page of `context` gets a clock that is `ms` off: `Date.now()` and `new Date()` lie. */
export async function skewClock(context, ms) {
  await context.addInitScript((skew) => {
    const Real = Date;
    class Skewed extends Real {
      constructor(...args) {
        if (args.length === 0) super(Real.now() + skew);
        else super(...args);
      }
      static now() {
        return Real.now() + skew;
      }
    }
    globalThis.Date = Skewed;
  }, ms);
}

/**
 * A UBND body whose members are `people` ([[key, name], …], each "Ủy viên UBND") except the
 * keys in `guests`, who are invited as guests, and a draft meeting of it starting in
 * `startsInMinutes` (on the minute), chaired by the person `chair` (a key) if given. Returns the
 * meeting and the people by key.
 */
export async function draftMeeting(desk, { people, startsInMinutes, chair = null, guests = [], title = 'Phiên họp thường kỳ tháng 11' }) {
  const byKey = {};
  for (const [key, name] of people) byKey[key] = await desk.call('POST', '/api/people', { name, position: 'Ủy viên UBND' });
  const body = await desk.call('POST', '/api/bodies', { name: 'UBND xã Tân Phú', kind: 'ubnd' });
  const members = Object.entries(byKey).filter(([key]) => !guests.includes(key));
  await desk.call('PUT', `/api/bodies/${body.id}/members`, { members: members.map(([, p]) => p.id) });
  const startsAt = new Date(Date.now() + startsInMinutes * 60_000);
  startsAt.setUTCSeconds(0, 0);
  const meeting = await desk.call('POST', '/api/meetings', {
    body_id: body.id,
    title,
    starts_at: startsAt.toISOString().replace('.000Z', 'Z'),
    ...(chair ? { chair_id: byKey[chair].id } : {}),
    ...(guests.length ? { guests: guests.map((k) => byKey[k].id) } : {}),
  });
  return { meeting, people: byKey };
}

/** The review: the secretary submits, the chair approves, the secretary publishes. */
export async function publishMeeting(desk, chair, meetingId) {
  await desk.call('POST', `/api/meetings/${meetingId}/submit`);
  await chair.call('POST', `/api/meetings/${meetingId}/approve`);
  await desk.call('POST', `/api/meetings/${meetingId}/publish`);
}

/**
 * A member's tablet as the box sees it: paired with the secretary's code and a PIN, with its own
 * P-256 key (non-extractable, as the web app makes it), signing what a tablet signs.
 */
export async function pairInNode(box, desk, person, pin) {
  const { code } = await desk.call('POST', `/api/people/${person.id}/pairing-code`);
  const { node_id: node } = (await box.request('GET', '/api/room')).json;
  const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
  const sign = async (text) => Buffer.from(await webcrypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, keys.privateKey, new TextEncoder().encode(text))).toString('base64url');
  const public_key = Buffer.from(await webcrypto.subtle.exportKey('raw', keys.publicKey)).toString('base64url');
  const res = await box.request('POST', '/api/devices/pair', {
    json: { code, pin, public_key, signature: await sign(`phonghop-pair:${node}:${code}`), label: 'Máy tính bảng' },
    headers: { Origin: box.origin },
  });
  assert.ok(res.status >= 200 && res.status < 300, `pair ${person.name}: ${res.status} ${res.text}`);
  const cookie = [].concat(res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).find((c) => c.startsWith('phonghop_device='));
  assert.ok(cookie, 'a device cookie');
  const call = async (method, pathname, json) => {
    const r = await box.request(method, pathname, { json, headers: { Cookie: cookie, Origin: box.origin } });
    assert.ok(r.status >= 200 && r.status < 300, `${person.name}: ${method} ${pathname} → ${r.status} ${r.text}`);
    return r.json;
  };
  return { person, node, sign, call };
}

/**
 * One ballot on a motion (`choice`: approve, disapprove, abstain) from a `pairInNode` tablet,
 * signed as docs/voting-design.md says: named, or secret (a signed participation and a receipt).
 */
export async function castBallot(tablet, meetingId, qid, choice) {
  const base = `/api/meetings/${meetingId}/questions/${qid}`;
  const seen = await tablet.call('GET', base);
  const { nonce, question } = seen.question;
  assert.ok(nonce, 'an open question carries its nonce');
  if (question.secrecy === 'named') {
    const ballotId = randomBytes(16).toString('hex');
    const signature = await tablet.sign(`phonghop-ballot/1|${tablet.node}|${meetingId}|${qid}|${nonce}|${ballotId}|${choice}`);
    return tablet.call('POST', `${base}/ballots`, { ballot_id: ballotId, mark: { choice }, signature });
  }
  const receipt = createHash('sha256').update(randomBytes(32)).digest('hex');
  const signature = await tablet.sign(`phonghop-participation/1|${tablet.node}|${meetingId}|${qid}|${nonce}|${tablet.person.id}`);
  return tablet.call('POST', `${base}/ballots`, { receipt, mark: { choice }, signature });
}

/** Opens a document in the reader with its annotation tools, scrolled to page 2 with its marks layer drawn. */
export async function openReaderPage2(page, url) {
  await page.goto(url);
  await page.getByTestId('ann-tools').waitFor({ timeout: 20_000 });
  await page.getByTestId('reader-page-2').scrollIntoViewIfNeeded();
  await page.locator('[data-testid="reader-page-2"] canvas').waitFor({ timeout: 20_000 });
  await page.locator('[data-testid="marks-2"]').waitFor({ timeout: 20_000 });
}

/**
 * Waits until the page is controlled by the service worker. On a loaded machine the first
 * install (the app shell and pdf.js precached) can take longer than a page load, and a page
 * opened before the worker activated may only be claimed after it: wait for the worker to be
 * ready, then reload once if the page is still not controlled.
 */
export async function waitForServiceWorker(page, timeout = 60_000) {
  const controlled = () => navigator.serviceWorker?.controller != null;
  try {
    await page.waitForFunction(controlled, null, { timeout: Math.min(15_000, timeout) });
    return;
  } catch {
    // Not yet: below.
  }
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
  if (!(await page.evaluate(controlled))) await page.reload();
  await page.waitForFunction(controlled, null, { timeout });
}
