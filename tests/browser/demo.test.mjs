// The demo: `steward demo` loads the demo organisation into a fresh data
// directory, `steward serve` serves it, and a demo person signs in (no forced
// password change: the demo passwords are published) to a living system:
// processes with their role holders, records with their history, and an
// approval waiting in the queue.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort, launchBrowser, newPage, pathOf, screenshot, signIn } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = process.env.STEWARD_BIN || path.resolve(here, '../../bin/steward');
const run = promisify(execFile);

/** The password of every demo account, as README.md lists it. */
const DEMO_PASSWORD = 'Demo-Password-2026';

/** Runs `steward demo` on dataDir and returns its exit code and output. */
async function loadDemo(dataDir) {
  try {
    const { stdout, stderr } = await run(bin, ['demo', '--data-dir', dataDir], { timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** Starts `steward serve` on dataDir and waits until it is healthy. */
async function serve(dataDir) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = spawn(bin, ['serve', '--addr', `127.0.0.1:${port}`, '--data-dir', dataDir, '--log-level', 'warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout.setEncoding('utf8').on('data', (d) => { output += d; });
  proc.stderr.setEncoding('utf8').on('data', (d) => { output += d; });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  let dead = false;
  exited.then(() => { dead = true; });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (dead) throw new Error(`steward serve exited early:\n${output}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`steward serve did not become healthy:\n${output}`);
    }
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    output: () => output,
    async stop() {
      if (!dead) {
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

describe('demo', () => {
  let dataDir, load, server, browser, ctx;

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'steward-demo-'));
    const started = Date.now();
    load = await loadDemo(dataDir);
    assert.equal(load.code, 0, `steward demo failed:\n${load.stdout}\n${load.stderr}`);
    assert.ok(Date.now() - started < 60_000, 'the demo loads within a minute');
    server = await serve(dataDir);
    browser = await launchBrowser();
    ctx = await newPage(browser);
  });
  afterEach(() => ctx?.csp.assertNone());
  after(async () => {
    await browser?.close();
    await server?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  /** Clicks a link or button and waits for the page it loads. */
  async function go(page, locator) {
    await Promise.all([page.waitForNavigation(), locator.click()]);
  }

  test('steward demo prints the demo accounts once, and refuses to load twice', async () => {
    assert.match(load.stdout, /Every password: Demo-Password-2026/);
    for (const who of ['david.okafor', 'marcus.bell', 'elena.petrova', 'rachel.kim']) {
      assert.match(load.stdout, new RegExp(`^\\s+${who.replace('.', '\\.')}\\s`, 'm'), `${who} is listed`);
    }
    assert.match(load.stdout, /username: admin\n\s+password: \S{20}/, 'the administrator was created with a one-time password');
    assert.doesNotMatch(server.output(), /First start: created the administrator account/, 'serve finds the admin the demo made');

    const again = await loadDemo(dataDir);
    assert.notEqual(again.code, 0, 'a second load fails');
    assert.match(again.stderr, /the demo loads only into a fresh database, and this one already has 26 users besides the first-start admin/);
  });

  test('a demo person signs in without a forced password change and sees their responsibilities', async () => {
    const { page } = ctx;
    await signIn(page, server, 'david.okafor', DEMO_PASSWORD);
    assert.equal(pathOf(page), '/', 'no password change is forced on a demo account');
    await screenshot(page, 'demo-home');
    await go(page, page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My responsibilities' }));
    const main = page.locator('main');
    for (const role of ['Incident Management Process Owner', 'Request Fulfillment Process Owner']) {
      assert.match(await main.innerText(), new RegExp(role), role);
    }
    await screenshot(page, 'demo-responsibilities');
  });

  test('a process shows its role holders and its records', async () => {
    const { page } = ctx;
    await page.goto(`${server.url}/processes/IM`);
    const roles = page.locator('#roles');
    const holders = async (name) => (await roles.locator('tbody tr', { hasText: name }).first().innerText()).replace(/\s+/g, ' ');
    assert.match(await holders('Process Owner'), /david\.okafor/);
    assert.match(await holders('Process Manager'), /marcus\.bell/);
    assert.match(await holders('Process Manager'), /ethan\.brooks .*Network Operations/, 'a role scoped to a team');
    assert.match(await holders('Analyst'), /team Service Desk/);
    const records = page.locator('#records tbody tr');
    assert.ok(await records.count() >= 6, 'IM has documents, findings and evaluations');
    const text = await page.locator('#records').innerText();
    for (const s of ['Approved', 'Superseded', 'Verified closed', 'Action planned', 'Accepted', 'Draft']) {
      assert.match(text, new RegExp(s), `an IM record is ${s}`);
    }
    await screenshot(page, 'demo-process', { fullPage: true });

    // Every process of Service Operations has an owner.
    await page.goto(`${server.url}/operations`);
    for (const code of ['AcM', 'EM', 'IM', 'PM', 'RF']) {
      await page.goto(`${server.url}/processes/${code}`);
      assert.doesNotMatch(await holders('Process Owner'), /nobody/, `${code} has an owner`);
    }
  });

  test('a record shows its history: drafted, rejected, revised and approved by the process owner', async () => {
    const { page } = ctx;
    await page.goto(`${server.url}/processes/IM`);
    await go(page, page.locator('#records tbody tr', { hasText: 'Incident Handling Procedure' }).getByRole('link'));
    assert.match(pathOf(page), /^\/records\/PFD\d{7}$/);
    assert.match(await page.locator('.record-head').innerText(), /Approved/);
    const journal = (await page.locator('#journal').innerText()).replace(/\s+/g, ' ');
    for (const step of [/logged as Draft/, /waiting for approval by david\.okafor/,
      /rejected: Add the functional escalation times/, /Added the escalation times and the NOC hand-off/,
      /Approve \(IM1\): In review → Approved/]) {
      assert.match(journal, step);
    }
    assert.match(journal, /marcus\.bell/);
    await screenshot(page, 'demo-record', { fullPage: true });
  });

  test('the approvals queue has something waiting, and the owner approves it', async () => {
    const { page } = ctx;
    await go(page, page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My approvals' }));
    const item = page.locator('#approvals .queue-item', { hasText: 'Request Fulfillment Policy' });
    assert.equal(await item.count(), 1);
    assert.match(await item.innerText(), /Approve \(RF1\): In review → Approved · requested by marcus\.bell/);
    await screenshot(page, 'demo-approvals');
    await item.getByRole('button', { name: /^Approve/ }).click();
    await page.waitForURL(/\/approvals\?m=step-approved/);
    assert.match(await page.locator('.flash').innerText(), /Approved: the step was applied/);
    assert.match(await page.locator('#approvals').innerText(), /Nothing waits for your approval/);
  });

  test('the auditor reads the audit trail, and the demo\'s history is marked as such', async () => {
    const other = await newPage(browser);
    try {
      await signIn(other.page, server, 'elena.petrova', DEMO_PASSWORD);
      const res = await other.context.request.get(`${server.url}/api/v1/audit?action=record.approval.reject`);
      assert.equal(res.status(), 200, await res.text());
      const { items } = await res.json();
      assert.deepEqual(items.map((e) => e.actorName).sort(), ['david.okafor', 'linda.park'],
        'the process owners sent back the drafts they rejected');
      for (const e of items) assert.equal(e.requestId, 'steward-demo', 'the demo\'s history is marked as such');
      other.csp.assertNone();
    } finally {
      await other.context.close();
    }
  });
});
