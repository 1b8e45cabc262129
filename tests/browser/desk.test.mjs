// The service desk workspace: queues of incidents logged through the API, a
// saved filter, a bulk assignment, the new-incident form keeping its input,
// the record page's action explanations and fields, and the keyboard shortcuts.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { firstSignIn, launchBrowser, newPage, pathOf, screenshot, signIn, startServer } from './harness.mjs';

const PASSWORD = 'a long enough password for the desk test';

describe('service desk', () => {
  let server, browser, ctx, api;
  const ids = {};
  const inc = {};

  // go clicks and waits for the page the click leads to.
  const go = (page, locator) => Promise.all([page.waitForNavigation(), locator.click()]);

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    ctx = await newPage(browser);
    await firstSignIn(ctx.page, server);
    api = ctx.page.context().request;
    const post = async (path, data, status = 201) => {
      const res = await api.post(`${server.url}${path}`, { data });
      assert.equal(res.status(), status, `${path}: ${await res.text()}`);
      return res.json();
    };
    ids.admin = (await (await api.get(`${server.url}/api/v1/me`)).json()).id;
    ids.ana = (await post('/api/v1/users', { username: 'ana', displayName: 'Ana Agent', password: PASSWORD })).id;
    ids.carol = (await post('/api/v1/users', { username: 'carol', displayName: 'Carol Caller', password: PASSWORD })).id;
    await post('/api/v1/role-assignments', { subject: 'IM', role: 'process-analyst', userId: ids.ana });
    const team = await post('/api/v1/teams', { name: 'Service desk' });
    ids.team = team.id;
    const etag = (await api.get(`${server.url}/api/v1/teams/${team.id}`)).headers().etag;
    const patched = await api.patch(`${server.url}/api/v1/teams/${team.id}`, { headers: { 'If-Match': etag }, data: { members: [ids.admin, ids.ana] } });
    assert.equal(patched.status(), 200, await patched.text());
    ids.host = (await post('/api/v1/cis', { class: 'server', name: 'mail-01.example.mil', attributes: { hostname: 'mail-01' } })).id;
    ids.app = (await post('/api/v1/cis', { class: 'application', name: 'Mail relay' })).id;
    ids.service = (await post('/api/v1/services', { name: 'E-mail', kind: 'business', criticality: 'mission_critical' })).id;
    await post(`/api/v1/cis/${ids.app}/relations`, { type: 'runs_on', targetId: ids.host });
    await post(`/api/v1/cis/${ids.app}/relations`, { type: 'provides', targetId: ids.service });

    const log = async (key, title, impact, urgency, assigneeId) => {
      inc[key] = await post('/api/v1/incidents', { title, description: 'Reported by phone.', impact, urgency, category: 'software',
        subcategory: 'email', service: ids.service, ci: ids.app, channel: 'phone', callerId: ids.carol, teamId: ids.team,
        ...(assigneeId ? { assigneeId } : {}) });
    };
    await log('bounces', 'Mail bounces for the east site', 2, 2, ids.admin); // P3
    await log('down', 'All mail down', 1, 1, ids.admin); // P1, major by threshold
    await log('slow', 'Calendar slow to open', 3, 3, ids.admin); // P5
    await log('free1', 'Shared mailbox missing', 2, 3, 0); // P4, unassigned
    await log('free2', 'Out-of-office not sent', 3, 2, 0); // P4, unassigned
  });
  afterEach(() => ctx.csp.assertNone());
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('the queues list the incidents logged through the API, highest priority first', async () => {
    const { page } = ctx;
    await page.goto(`${server.url}/`);
    await go(page, page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Service desk' }));
    assert.equal(pathOf(page), '/desk');
    assert.equal(await page.locator('.queue-tabs a[aria-current="page"]').innerText(), 'Mine');
    assert.deepEqual(await page.locator('.queue-tabs a').allInnerTexts(), ['Mine', 'My teams', 'Unassigned', 'Major'],
      'no breaching-soon queue before SLAs exist');
    const rows = page.locator('table.queue-table tbody tr');
    assert.equal(await rows.count(), 3);
    const numbers = await page.locator('table.queue-table tbody tr td.c-num a').allInnerTexts();
    assert.deepEqual(numbers, [inc.down.number, inc.bounces.number, inc.slow.number], 'P1, P3, P5');
    const first = await rows.first().innerText();
    assert.match(first, /P1/);
    assert.match(first, /All mail down\s+Major/);
    assert.match(first, /Carol Caller/);
    assert.match(first, /E-mail/);
    assert.match(first, /Service desk\s+Administrator/);
    assert.match(await page.locator('h1').innerText(), /Mine · 3 records/);
    await screenshot(page, 'desk-queue');

    await go(page, page.getByRole('link', { name: 'Unassigned', exact: true }));
    assert.deepEqual(await page.locator('table.queue-table tbody td.c-num a').allInnerTexts(), [inc.free1.number, inc.free2.number]);
    await go(page, page.getByRole('link', { name: 'Major', exact: true }));
    assert.deepEqual(await page.locator('table.queue-table tbody td.c-num a').allInnerTexts(), [inc.down.number]);
    // The major incident's page: its timeline takes a stakeholder update.
    await go(page, page.getByRole('link', { name: inc.down.number }));
    assert.match(await page.locator('#major').innerText(), /priority P1 reached the major-incident threshold/);
    await page.getByLabel('Audience').selectOption('users');
    await page.getByLabel('Update', { exact: true }).fill('Mail is down for everyone; next update at 10:30.');
    await go(page, page.getByRole('button', { name: 'Post update' }));
    assert.match(await page.locator('#major .timeline').first().innerText(), /to Users · admin\s*Mail is down for everyone/);
    await screenshot(page, 'desk-record-major', { fullPage: true });
    await page.goto(`${server.url}/desk?queue=major`);
    await go(page, page.getByRole('link', { name: 'My teams', exact: true }));
    assert.equal(await page.locator('table.queue-table tbody tr').count(), 5);
    await page.getByLabel('Priority').selectOption('4');
    await go(page, page.getByRole('button', { name: 'Filter', exact: true }));
    assert.deepEqual(await page.locator('table.queue-table tbody td.c-num a').allInnerTexts(), [inc.free1.number, inc.free2.number]);
    await screenshot(page, 'desk-teams-p4', { fullPage: true });
  });

  test('a saved filter comes back with its query, and is deleted', async () => {
    const { page } = ctx;
    await page.goto(`${server.url}/desk?queue=teams&priority=4`);
    await page.getByLabel('Save this view as').fill('P4 of my teams');
    await page.getByLabel('Share with everyone').check();
    await go(page, page.getByRole('button', { name: 'Save filter' }));
    assert.match(await page.locator('.flash').innerText(), /The filter was saved/);
    const saved = page.locator('.saved-list a', { hasText: 'P4 of my teams' });
    assert.equal(await saved.getAttribute('aria-current'), 'true');
    await screenshot(page, 'desk-saved-filter');

    await page.goto(`${server.url}/desk`);
    await go(page, page.locator('.saved-list a', { hasText: 'P4 of my teams' }));
    const url = new URL(page.url());
    assert.equal(url.searchParams.get('queue'), 'teams');
    assert.equal(url.searchParams.get('priority'), '4');
    assert.equal(await page.getByLabel('Priority').inputValue(), '4');
    assert.equal(await page.locator('table.queue-table tbody tr').count(), 2);

    // Ana sees the shared filter but may not delete it.
    const other = await newPage(browser);
    try {
      await signIn(other.page, server, 'ana', PASSWORD);
      await other.page.goto(`${server.url}/desk`);
      assert.equal(await other.page.locator('.saved-list a', { hasText: 'P4 of my teams' }).count(), 1);
      assert.equal(await other.page.getByRole('button', { name: 'Delete the saved filter P4 of my teams' }).count(), 0);
      other.csp.assertNone();
    } finally {
      await other.context.close();
    }

    await go(page, page.getByRole('button', { name: 'Delete the saved filter P4 of my teams' }));
    assert.match(await page.locator('.flash').innerText(), /The filter was deleted/);
    assert.equal(await page.locator('.saved-list a', { hasText: 'P4 of my teams' }).count(), 0);
  });

  test('two unassigned incidents are assigned at once, and the page says what became of each', async () => {
    const { page } = ctx;
    await page.goto(`${server.url}/desk?queue=unassigned`);
    // Nothing ticked: the queue comes back with the error and what was typed.
    await page.getByLabel('Team', { exact: true }).last().selectOption(String(ids.team));
    await page.getByLabel(/^Assignee/).fill('ana');
    await go(page, page.getByRole('button', { name: 'Assign ticked' }));
    assert.match(await page.locator('.error-summary').innerText(), /Tick at least one record/);
    assert.equal(await page.getByLabel(/^Assignee/).inputValue(), 'ana');

    await page.getByLabel(`Tick ${inc.free1.number}`).check();
    await page.getByLabel(`Tick ${inc.free2.number}`).check();
    await go(page, page.getByRole('button', { name: 'Assign ticked' }));
    assert.equal(pathOf(page), '/desk/bulk');
    assert.match(await page.locator('h1').innerText(), /Assigned to ana: 2 done/);
    const results = await page.locator('table.bulk-results tbody').innerText();
    assert.match(results, new RegExp(`${inc.free1.number}\\s+Done`));
    assert.match(results, new RegExp(`${inc.free2.number}\\s+Done`));
    await screenshot(page, 'desk-bulk');
    for (const key of ['free1', 'free2']) {
      const got = await (await api.get(`${server.url}/api/v1/incidents/${inc[key].number}`)).json();
      assert.equal(got.assigneeId, ids.ana, `${key} is ana's`);
    }
    await go(page, page.getByRole('link', { name: 'Back to the queue' }));
    assert.match(await page.locator('.empty-queue').innerText(), /Nothing in this queue/);
  });

  test('the new-incident form keeps what was typed when it is refused, offers known errors, then logs', async () => {
    const { page } = ctx;
    await page.goto(`${server.url}/desk`);
    await page.locator('main').click({ position: { x: 5, y: 5 } });
    await Promise.all([page.waitForNavigation(), page.keyboard.press('n')]);
    assert.equal(pathOf(page), '/desk/incidents/new');
    await page.getByLabel(/^Caller/).fill('carol');
    await page.getByLabel('Description').fill('Outlook shows "disconnected" since 9:00.');
    await page.getByLabel(/^Category/).selectOption('software');
    await page.getByLabel('Subcategory').selectOption('email');
    await page.getByLabel('Affected service').selectOption(String(ids.service));
    await page.getByLabel('Affected CI: name starts with').fill('Mail');
    await go(page, page.getByRole('button', { name: 'Find CI' }));
    await page.getByLabel('CI', { exact: true }).selectOption(String(ids.app));
    await page.getByLabel(/^Medium/).first().check();
    await page.locator('#urgency-1').check();
    await go(page, page.getByRole('button', { name: 'Log incident' }));

    const summary = page.locator('.error-summary');
    assert.match(await summary.innerText(), /Give a title/);
    assert.equal(await page.getByLabel(/^Title/).getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByLabel(/^Caller/).inputValue(), 'carol');
    assert.equal(await page.getByLabel('Description').inputValue(), 'Outlook shows "disconnected" since 9:00.');
    assert.equal(await page.getByLabel(/^Category/).inputValue(), 'software');
    assert.equal(await page.getByLabel('Subcategory').inputValue(), 'email');
    assert.equal(await page.getByLabel('CI', { exact: true }).inputValue(), String(ids.app));
    assert.equal(await page.locator('#impact-2').isChecked(), true);
    assert.equal(await page.locator('#urgency-1').isChecked(), true);
    await screenshot(page, 'desk-incident-error', { fullPage: true });
    // The summary's link leads to the field.
    await summary.getByRole('link', { name: /Give a title/ }).click();
    assert.equal(await page.evaluate(() => document.activeElement.id), 'title');

    await page.getByLabel(/^Title/).fill('Outlook cannot connect');
    await go(page, page.getByRole('button', { name: 'Check known errors' }));
    assert.match(await page.locator('.known-errors').innerText(), /No known error matches what you typed/);
    assert.equal(await page.getByLabel(/^Title/).inputValue(), 'Outlook cannot connect');
    await page.getByLabel('Assign to me').check();
    await go(page, page.getByRole('button', { name: 'Log incident' }));
    assert.match(pathOf(page), /^\/records\/INC\d+$/);
    assert.match(await page.locator('.flash').innerText(), /The incident was logged/);
    inc.logged = { number: pathOf(page).split('/').pop() };
    const facts = await page.locator('#incident').innerText();
    assert.match(facts, /Carol Caller/);
    assert.match(facts, /Software › E-mail and calendar/);
    assert.match(facts, /Medium × High → P2/);
    assert.match(facts, /Mail relay/);
    // The CI graph one hop around the affected CI: the server it runs on and the service it provides.
    const graph = page.locator('#around svg.g-svg');
    assert.ok(await graph.isVisible());
    for (const id of [ids.app, ids.host, ids.service]) {
      assert.equal(await graph.locator(`g.g-node[data-id="${id}"]`).count(), 1, `CI ${id} is drawn`);
    }
    await screenshot(page, 'desk-record-incident', { fullPage: true });
  });

  test('the record page explains each action, and an action takes its fields', async () => {
    const { page } = ctx;
    const number = inc.bounces.number;
    // Carol holds no role: every desk action is refused, with the guard's reason.
    const other = await newPage(browser);
    try {
      await signIn(other.page, server, 'carol', PASSWORD);
      await other.page.goto(`${server.url}/records/${number}`);
      const buttons = other.page.locator('#actions .action button');
      assert.ok(await buttons.count() >= 3);
      for (const b of await buttons.all()) assert.equal(await b.isDisabled(), true);
      assert.match(await other.page.locator('#actions .action', { hasText: 'Resolve' }).innerText(),
        /IM5 → Resolved\s+Not allowed:\s+You may not perform IM5 \(Resolve and Recover Incident\): it needs R or A/);
      await screenshot(other.page, 'desk-record-refused');
      other.csp.assertNone();
    } finally {
      await other.context.close();
    }

    // Ana, the analyst, may: the explanation names her role, and Resolve asks for its fields.
    const ana = await newPage(browser);
    try {
      const p = ana.page;
      await signIn(p, server, 'ana', PASSWORD);
      await p.goto(`${server.url}/records/${number}`);
      const resolve = p.locator('#actions .action', { hasText: 'Resolve' });
      assert.match(await resolve.innerText(), /You may perform IM5: you hold R for IM5 \(Resolve and Recover Incident\) as Incident Management Process Analyst/);
      await resolve.locator('summary').click();
      await p.getByLabel(/^Resolution notes/).fill('Re-issued the relay certificate.');
      await p.getByLabel(/^Effort \(minutes\)/).fill('20');
      await go(p, resolve.getByRole('button', { name: 'Resolve', exact: true }));
      assert.match(await p.locator('#actions .error-summary').innerText(), /Resolution code: pick one from the list/);
      assert.equal(await p.getByLabel(/^Resolution notes/).inputValue(), 'Re-issued the relay certificate.');
      assert.equal(await p.getByLabel(/^Resolution code/).getAttribute('aria-invalid'), 'true');
      await screenshot(p, 'desk-record-resolve-error', { fullPage: true });
      await p.getByLabel(/^Resolution code/).selectOption('permanent');
      await go(p, p.locator('#actions .action', { hasText: 'Resolve' }).getByRole('button', { name: 'Resolve', exact: true }));
      assert.match(await p.locator('.flash').innerText(), /Done: the record moved on/);
      assert.match(await p.locator('.record-head').innerText(), /Resolved/);
      assert.match(await p.locator('#incident').innerText(), /Solved \(permanently\)/);
      ana.csp.assertNone();
    } finally {
      await ana.context.close();
    }
  });

  test('keyboard: / focuses the search, j and k move in the queue, Enter opens, ? lists the keys', async () => {
    const { page } = ctx;
    await page.goto(`${server.url}/desk`);
    await page.keyboard.press('/');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'global-q');
    await page.keyboard.type('mail');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    assert.equal(pathOf(page), '/search');
    assert.match(await page.locator('main').innerText(), /All mail down/);
    await screenshot(page, 'desk-search');

    await page.goto(`${server.url}/desk`);
    const order = await page.locator('table.queue-table tbody td.c-num a').allInnerTexts();
    assert.ok(order.length >= 2);
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    await page.keyboard.press('k');
    const current = page.locator('table.queue-table tbody tr.kb-current');
    assert.equal(await current.count(), 1);
    assert.equal(await current.locator('td.c-num a').innerText(), order[0]);
    await page.keyboard.press('j');
    assert.equal(await page.locator('tr.kb-current td.c-num a').innerText(), order[1]);
    await screenshot(page, 'desk-keyboard');
    await page.keyboard.press('?');
    assert.equal(await page.locator('dialog#shortcuts').evaluate((d) => d.open), true);
    assert.match(await page.locator('dialog#shortcuts').innerText(), /Search records and CIs/);
    await screenshot(page, 'desk-shortcuts');
    await page.keyboard.press('Escape');
    assert.equal(await page.locator('dialog#shortcuts').evaluate((d) => d.open), false);
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    assert.equal(pathOf(page), `/records/${order[1]}`);
    await page.keyboard.press('g');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('p')]);
    assert.equal(pathOf(page), '/portal');
  });

  test('recurring incidents are grouped by category, and a problem is raised from a group', async () => {
    const { page } = ctx;
    await page.goto(`${server.url}/desk`);
    await go(page, page.getByRole('link', { name: 'Recurring incidents' }));
    assert.equal(pathOf(page), '/desk/trends');
    const row = page.locator('table.data tbody tr', { hasText: 'Software' });
    assert.equal(await row.count(), 1, 'the software incidents form one group');
    assert.match(await row.innerText(), /\b[5-9]\b/, 'with all the incidents logged on it');
    await screenshot(page, 'desk-trends', { fullPage: true });
    await go(page, row.getByRole('button', { name: /Raise a problem/ }));
    assert.match(pathOf(page), /^\/records\/PRB\d{7}$/);
    assert.match(await page.locator('h1').innerText(), /Recurring incidents: Software/);
    assert.ok(await page.locator('main a', { hasText: inc.down.number }).count() >= 1, 'the group\'s incidents are linked');
    await screenshot(page, 'desk-trend-problem', { fullPage: true });
  });

  test('the desk fits a narrow screen', async () => {
    const { page } = ctx;
    await page.setViewportSize({ width: 420, height: 900 });
    try {
      await page.goto(`${server.url}/desk?queue=teams`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 1, `the page scrolls sideways by ${overflow}px`);
      await screenshot(page, 'desk-narrow', { fullPage: true });
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });
});
