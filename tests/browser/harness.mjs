// Shared helpers for the browser tests: start the real Steward binary on a
// free port with a fresh data directory, launch Chromium, sign in, and watch
// for Content-Security-Policy violations.
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Where screenshots go; the folder is ignored by git. */
export const screenshotDir = path.join(here, 'screenshots');

/** The password every test file sets at the forced first change. */
export const NEW_PASSWORD = 'correct horse battery staple 42';

/** Asks the OS for a free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts `$STEWARD_BIN serve` on a free port with a fresh data directory, reads
 * the one-time administrator password it prints, and waits for /healthz.
 */
export async function startServer() {
  const bin = process.env.STEWARD_BIN || path.resolve(here, '../../bin/steward');
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'steward-browser-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = spawn(bin, ['serve', '--addr', `127.0.0.1:${port}`, '--data-dir', dataDir, '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
  proc.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  let dead = null;
  exited.then((x) => { dead = x; });

  const deadline = Date.now() + 30_000;
  let adminPassword = '';
  for (;;) {
    if (dead) {
      throw new Error(`steward exited early (${JSON.stringify(dead)}):\n${stdout}\n${stderr}`);
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`steward did not become healthy at ${url}:\n${stdout}\n${stderr}`);
    }
    adminPassword ||= (stdout.match(/password:\s*(\S+)/) || [])[1] || '';
    if (adminPassword) {
      try {
        const res = await fetch(`${url}/healthz`);
        if (res.ok) break;
      } catch { /* not listening yet */ }
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    url,
    adminPassword,
    /** The admin's current password; tests update it after changing it. */
    password: adminPassword,
    logs: () => stderr,
    async stop() {
      if (!dead) {
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Launches the system's Chromium, headless. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    headless: true,
  });
}

/**
 * Records every console message and page error that mentions the
 * Content Security Policy; call assertNone() to fail on any.
 */
export function watchCSP(page) {
  const violations = [];
  page.on('console', (msg) => {
    if (/content security policy/i.test(msg.text())) violations.push(`${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => {
    if (/content security policy/i.test(String(err))) violations.push(`pageerror: ${err}`);
  });
  return {
    violations,
    assertNone() {
      assert.deepEqual(violations, [], 'the page violated the Content-Security-Policy');
    },
  };
}

/** A new browser context and page of a fixed, screenshot-friendly size, with a CSP watcher. */
export async function newPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const csp = watchCSP(page);
  return { context, page, csp };
}

/** Signs in through the login form, accepting the notice. */
export async function signIn(page, server, username, password) {
  await page.goto(`${server.url}/login`);
  await page.getByLabel('I have read and consent to the notice').check();
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign in' }).click()]);
}

/**
 * Signs in as the administrator for the first time and makes the forced
 * password change; the page ends on the home page.
 */
export async function firstSignIn(page, server) {
  await signIn(page, server, 'admin', server.adminPassword);
  assert.equal(new URL(page.url()).pathname, '/account/password');
  await changePassword(page, server.adminPassword, NEW_PASSWORD);
  server.password = NEW_PASSWORD;
  assert.equal(new URL(page.url()).pathname, '/');
}

/** Fills and submits the change-password form on the current page. */
export async function changePassword(page, current, next, confirm = next) {
  await page.getByLabel('Current password').fill(current);
  await page.getByLabel('New password', { exact: true }).fill(next);
  await page.getByLabel('New password again').fill(confirm);
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Change password' }).click()]);
}

/** The tallest full-page screenshot, in CSS pixels. */
const maxScreenshotHeight = 16384;

/**
 * Saves a screenshot as screenshots/NAME.png: the viewport, as a user sees it
 * (the classification banners stick to its top and bottom), or with fullPage
 * the whole page (up to maxScreenshotHeight), taken through a viewport as tall
 * as the page so that the sticky banners sit where they belong.
 */

export async function screenshot(page, name, { fullPage = false } = {}) {
  await mkdir(screenshotDir, { recursive: true });
  const file = path.join(screenshotDir, `${name}.png`);
  if (!fullPage) {
    await page.screenshot({ path: file });
    return;
  }
  const size = page.viewportSize();
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  // A "full page" stops at 16,384 px, Chromium's largest texture: beyond it a
  // capture is tiled and slow (the API reference, with every operation, is far
  // taller), and nobody reads a screenshot that long anyway.
  await page.setViewportSize({ width: size.width, height: Math.min(Math.max(height, size.height), maxScreenshotHeight) });
  try {
    await page.screenshot({ path: file });
  } finally {
    await page.setViewportSize(size);
  }
}

/** The path of the page's URL. */
export function pathOf(page) {
  return new URL(page.url()).pathname;
}
