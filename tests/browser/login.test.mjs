// Sign-in: the system-use notification, the forced first password change,
// failed logins and signing out.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NEW_PASSWORD, changePassword, launchBrowser, newPage, pathOf, screenshot, signIn, startServer,
} from './harness.mjs';

describe('sign-in', () => {
  let server, browser, ctx;

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    ctx = await newPage(browser);
  });
  afterEach(() => ctx.csp.assertNone());
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('anonymous visitors are sent to the login page', async () => {
    const { page } = ctx;
    for (const p of ['/', '/operations', '/account', '/api/docs']) {
      await page.goto(server.url + p);
      assert.equal(pathOf(page), '/login', `visiting ${p}`);
    }
    await screenshot(page, 'login');
  });

  test('the login page shows the system-use notification and a consent box', async () => {
    const { page } = ctx;
    await page.goto(`${server.url}/login`);
    await assertVisible(page.getByRole('heading', { name: 'System use notification' }));
    assert.match(await page.locator('.notice').innerText(), /U\.S\. Government \(USG\) Information System/);
    assert.equal(await page.getByLabel('I have read and consent to the notice').isChecked(), false);
  });

  test('login is refused without accepting the notice', async () => {
    const { page, context } = ctx;
    await page.goto(`${server.url}/login`);
    await page.getByLabel('Username', { exact: true }).fill('admin');
    await page.getByLabel('Password', { exact: true }).fill(server.adminPassword);

    // The browser itself refuses to submit: the box is required.
    await page.getByRole('button', { name: 'Sign in' }).click();
    const consent = page.getByLabel('I have read and consent to the notice');
    assert.equal(await consent.evaluate((el) => el.validity.valueMissing), true);
    assert.equal(pathOf(page), '/login');

    // And so does the server, when the browser's check is bypassed.
    await page.locator('form.form').evaluate((f) => { f.noValidate = true; });
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign in' }).click()]);
    assert.equal(pathOf(page), '/login');
    await assertVisible(page.locator('#consent-error'));
    assert.match(await page.locator('.error-summary').innerText(), /consent to the notice/);
    assert.equal(await page.getByLabel('Username', { exact: true }).inputValue(), 'admin', 'the username is kept');
    assert.equal(await page.getByLabel('Password', { exact: true }).inputValue(), '', 'the password is not echoed');
    assert.equal(await consent.getAttribute('aria-invalid'), 'true');
    const cookies = await context.cookies();
    assert.equal(cookies.filter((c) => c.name === 'steward_session').length, 0, 'no session was opened');
    await screenshot(page, 'login-refused');
  });

  test('a wrong password gets the generic message and keeps the username', async () => {
    const { page } = ctx;
    await signIn(page, server, 'admin', 'not the password at all');
    assert.equal(pathOf(page), '/login');
    assert.match(await page.locator('.error-summary').innerText(), /Invalid username or password/);
    assert.equal(await page.getByLabel('Username', { exact: true }).inputValue(), 'admin');
    assert.equal(await page.getByLabel('I have read and consent to the notice').isChecked(), true);
  });

  test('first login forces a password change, then lands on home', async () => {
    const { page } = ctx;
    await signIn(page, server, 'admin', server.adminPassword);
    assert.equal(pathOf(page), '/account/password');
    await assertVisible(page.getByText('You must choose a new password before you continue'));
    assert.equal(await page.locator('nav.sidenav').count(), 0, 'no navigation until the password is changed');
    await screenshot(page, 'password-forced');

    // Every other page sends the user back here.
    for (const p of ['/', '/account', '/api/docs', '/design']) {
      await page.goto(server.url + p);
      assert.equal(pathOf(page), '/account/password', `visiting ${p}`);
    }

    // A mismatched confirmation is refused, and no password is kept in the form.
    await changePassword(page, server.adminPassword, NEW_PASSWORD, NEW_PASSWORD + 'x');
    assert.equal(pathOf(page), '/account/password');
    assert.match(await page.locator('#confirmPassword-error').innerText(), /differ/);
    assert.equal(await page.getByLabel('Current password').inputValue(), '');

    // A password that is too short breaks the policy (the browser's minlength check is bypassed).
    await page.locator('form.form').evaluate((f) => { f.noValidate = true; });
    await changePassword(page, server.adminPassword, 'short', 'short');
    assert.match(await page.locator('#newPassword-error').innerText(), /at least 15 characters/);
    await screenshot(page, 'password-error');

    await changePassword(page, server.adminPassword, NEW_PASSWORD);
    server.password = NEW_PASSWORD;
    assert.equal(pathOf(page), '/');
    await assertVisible(page.getByRole('heading', { level: 1, name: 'Service lifecycle' }));
    await assertVisible(page.getByRole('navigation', { name: 'Main' }));
    await screenshot(page, 'home');
  });

  test('a signed-in user visiting /login goes home', async () => {
    const { page } = ctx;
    await page.goto(`${server.url}/login`);
    assert.equal(pathOf(page), '/');
  });

  test('signing out ends the session and returns to the login page', async () => {
    const { page, context } = ctx;
    await page.goto(`${server.url}/`);
    const before = (await context.cookies()).find((c) => c.name === 'steward_session');
    assert.ok(before, 'signed in with a session cookie');
    assert.equal(before.httpOnly, true);
    assert.equal(before.sameSite, 'Lax');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign out' }).click()]);
    assert.equal(pathOf(page), '/login');
    assert.match(await page.locator('.flash').innerText(), /You have signed out/);
    const res = await fetch(`${server.url}/api/v1/me`, { headers: { Cookie: `steward_session=${before.value}` } });
    assert.equal(res.status, 401, 'the old session no longer works');
  });

  test('the new password signs in straight to home', async () => {
    const { page } = ctx;
    await signIn(page, server, 'admin', server.password);
    assert.equal(pathOf(page), '/');
  });
});

async function assertVisible(locator) {
  assert.equal(await locator.isVisible(), true, `expected ${locator} to be visible`);
}
