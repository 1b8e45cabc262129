// The account page: sessions, API tokens shown once, revoking, and signing out everywhere.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { firstSignIn, launchBrowser, newPage, pathOf, screenshot, signIn, startServer } from './harness.mjs';

describe('account', () => {
  let server, browser, ctx;

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    ctx = await newPage(browser);
    await firstSignIn(ctx.page, server);
  });
  afterEach(() => ctx.csp.assertNone());
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  const sessionRows = (page) => page.locator('#sessions tbody tr');
  const tokenRows = (page) => page.locator('#tokens tbody tr');
  const apiMe = (bearer) => fetch(`${server.url}/api/v1/me`, { headers: { Authorization: `Bearer ${bearer}` } });

  test('the account page shows the profile and lists the current session', async () => {
    const { page } = ctx;
    await page.goto(`${server.url}/account`);
    const profile = page.locator('.facts');
    assert.match(await profile.innerText(), /Username\s+admin/);
    assert.match(await profile.innerText(), /Administrator\s+Yes/);
    assert.equal(await sessionRows(page).count(), 1);
    const row = sessionRows(page).first();
    assert.match(await row.innerText(), /This session/);
    assert.match(await row.innerText(), /127\.0\.0\.1/);
    assert.match(await row.innerText(), /Chrome/, 'the user agent is shown');
    assert.match(await tokenRows(page).innerText(), /You have no API tokens/);
  });

  let secret;

  test('creating a token shows the secret once and lists it afterwards', async () => {
    const { page } = ctx;
    await page.goto(`${server.url}/account`);
    assert.equal(await page.getByLabel('Expires in (days)').inputValue(), '90', 'the default expiry');
    await page.getByLabel('Name', { exact: true }).fill('nightly export');
    await page.getByLabel('Expires in (days)').fill('30');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Create token' }).click()]);

    assert.equal(pathOf(page), '/account/tokens', 'the secret is in the POST response itself');
    const panel = page.locator('.panel-secret');
    assert.match(await panel.innerText(), /It will not be shown again/);
    secret = await page.getByLabel('Token', { exact: true }).inputValue();
    assert.match(secret, /^stw_[a-z2-7]{20,}$/);
    assert.ok(!page.url().includes(secret), 'the secret is not in the URL');
    const cookies = await page.context().cookies();
    assert.ok(!cookies.some((c) => c.value.includes(secret)), 'the secret is not in a cookie');
    assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), '', 'the form is reset for the next token');
    await screenshot(page, 'account', { fullPage: true });
    await screenshot(page, 'account-top');

    const row = tokenRows(page).filter({ hasText: 'nightly export' });
    assert.equal(await row.count(), 1);
    assert.match(await row.innerText(), new RegExp(secret.slice(0, 12)));
    assert.match(await row.innerText(), /Active/);

    const res = await apiMe(secret);
    assert.equal(res.status, 200, 'the token works');
    assert.equal((await res.json()).username, 'admin');

    await page.goto(`${server.url}/account`);
    assert.ok(!(await page.content()).includes(secret), 'the secret is not shown again');
    assert.equal(await page.locator('.panel-secret').count(), 0);
    assert.equal(await tokenRows(page).filter({ hasText: 'nightly export' }).count(), 1, 'still listed');
  });

  test('a token form that fails keeps what was typed', async () => {
    const { page } = ctx;
    await page.goto(`${server.url}/account`);
    await page.getByRole('form', { name: 'Create a token' }).evaluate((f) => { f.noValidate = true; });
    await page.getByLabel('Name', { exact: true }).fill('keep this name');
    await page.getByLabel('Expires in (days)').fill('99999');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Create token' }).click()]);
    assert.match(await page.locator('#expiresInDays-error').innerText(), /0 to 3650/);
    const box = await page.locator('.error-summary').boundingBox();
    assert.ok(box.y >= 0 && box.y + box.height <= page.viewportSize().height, 'the browser scrolls to the failed form');
    assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'keep this name');
    assert.equal(await page.getByLabel('Expires in (days)').inputValue(), '99999');
    assert.equal(await page.locator('.panel-secret').count(), 0);
    await screenshot(page, 'account-token-error');
  });

  test('revoking a token marks it revoked and it stops working', async () => {
    const { page } = ctx;
    await page.goto(`${server.url}/account`);
    const row = tokenRows(page).filter({ hasText: 'nightly export' });
    await Promise.all([page.waitForNavigation(), row.getByRole('button', { name: /Revoke/ }).click()]);
    assert.equal(pathOf(page), '/account');
    assert.match(await page.locator('.flash').innerText(), /The token was revoked/);
    const after = tokenRows(page).filter({ hasText: 'nightly export' });
    assert.match(await after.innerText(), /Revoked/);
    assert.equal(await after.getByRole('button').count(), 0, 'a revoked token has no Revoke button');
    assert.equal((await apiMe(secret)).status, 401);
  });

  test('another session can be revoked from here', async () => {
    const { page } = ctx;
    const other = await newPage(browser);
    await signIn(other.page, server, 'admin', server.password);
    assert.equal(pathOf(other.page), '/');

    await page.goto(`${server.url}/account`);
    assert.equal(await sessionRows(page).count(), 2);
    const otherRow = sessionRows(page).filter({ hasNotText: 'This session' });
    await Promise.all([page.waitForNavigation(), otherRow.getByRole('button', { name: /Revoke/ }).click()]);
    assert.match(await page.locator('.flash').innerText(), /The session was ended/);
    assert.equal(await sessionRows(page).count(), 1);

    await other.page.goto(`${server.url}/account`);
    assert.equal(pathOf(other.page), '/login', 'the revoked session is signed out');
    other.csp.assertNone();
    await other.context.close();
  });

  test('sign out everywhere goes to the login page and the old cookie no longer works', async () => {
    const { page, context } = ctx;
    const other = await newPage(browser);
    await signIn(other.page, server, 'admin', server.password);

    await page.goto(`${server.url}/account`);
    const old = (await context.cookies()).find((c) => c.name === 'steward_session');
    assert.ok(old);
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign out everywhere' }).click()]);
    assert.equal(pathOf(page), '/login');
    assert.match(await page.locator('.flash').innerText(), /signed out of every session/);
    assert.equal((await context.cookies()).filter((c) => c.name === 'steward_session').length, 0, 'the cookie is cleared');

    // The old cookie, replayed by a fresh browser, is refused.
    const replay = await browser.newContext();
    await replay.addCookies([{ ...old }]);
    const replayPage = await replay.newPage();
    await replayPage.goto(`${server.url}/account`);
    assert.equal(pathOf(replayPage), '/login');
    const res = await fetch(`${server.url}/api/v1/me`, { headers: { Cookie: `steward_session=${old.value}` } });
    assert.equal(res.status, 401);
    await replay.close();

    // The other browser was signed out too.
    await other.page.goto(`${server.url}/`);
    assert.equal(pathOf(other.page), '/login');
    await other.context.close();
  });
});
