// The self-service portal, as a user with no process role: report an issue,
// request a catalog item through its typed form (a refused form keeps what
// was typed), find both under "my incidents and requests", comment, and
// confirm the resolution the service desk gave.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { firstSignIn, launchBrowser, newPage, pathOf, screenshot, signIn, startServer } from './harness.mjs';

const PASSWORD = 'a long enough password for the portal test';

describe('self-service portal', () => {
  let server, browser, admin, carol, api;
  const ids = {};
  const numbers = {};

  const go = (page, locator) => Promise.all([page.waitForNavigation(), locator.click()]);

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    admin = await newPage(browser);
    await firstSignIn(admin.page, server);
    api = admin.page.context().request;
    const post = async (path, data, status = 201) => {
      const res = await api.post(`${server.url}${path}`, { data });
      assert.equal(res.status(), status, `${path}: ${await res.text()}`);
      return res.json();
    };
    ids.carol = (await post('/api/v1/users', { username: 'carol', displayName: 'Carol Caller', password: PASSWORD })).id;
    ids.dave = (await post('/api/v1/users', { username: 'dave', displayName: 'Dave Deskmate', password: PASSWORD })).id;
    ids.team = (await post('/api/v1/teams', { name: 'Workplace services' })).id;
    ids.service = (await post('/api/v1/services', { name: 'Workplace IT', kind: 'business', criticality: 'mission_support' })).id;
    ids.dock = (await post('/api/v1/cis', { class: 'network_device', name: 'dock-room-214', attributes: { device_type: 'switch' } })).id;
    ids.item = (await post('/api/v1/catalog/items', {
      name: 'New laptop', description: 'A standard laptop with the usual software.', category: 'hardware', serviceId: ids.service,
      targetHours: 48,
      variables: [
        { name: 'model', label: 'Model', type: 'choice', required: true, choices: ['13-inch', '15-inch'] },
        { name: 'needed_by', label: 'Needed by', type: 'date', required: true },
        { name: 'screens', label: 'Extra screens', type: 'number', min: 0, max: 2 },
        { name: 'for_user', label: 'For whom', type: 'user', help: 'Who will use it.' },
        { name: 'dock', label: 'Docking station', type: 'ci' },
        { name: 'note', label: 'Anything special', type: 'text' },
      ],
      tasks: [{ name: 'Prepare the laptop', teamId: ids.team, stage: 1 }],
    })).id;
    await post('/api/v1/catalog/items', { name: 'VPN access', description: 'Remote access to the network.', category: 'access',
      serviceId: ids.service, variables: [{ name: 'reason', label: 'Why you need it', type: 'text', required: true }],
      tasks: [{ name: 'Grant VPN', teamId: ids.team, stage: 1 }] });

    carol = await newPage(browser);
    await signIn(carol.page, server, 'carol', PASSWORD);
  });
  afterEach(() => {
    admin.csp.assertNone();
    carol.csp.assertNone();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('a user reports an issue in their own words', async () => {
    const { page } = carol;
    await page.goto(`${server.url}/`);
    await go(page, page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Self-service portal' }));
    assert.equal(pathOf(page), '/portal');
    await screenshot(page, 'portal-empty');
    await go(page, page.getByRole('link', { name: 'Report an issue' }));
    await page.getByLabel('Details').fill('The printer on floor 2 says "paper jam" but there is none.');
    await page.getByLabel(/^What is it about/).selectOption('hardware');
    await page.getByLabel('Which service?').selectOption(String(ids.service));
    await go(page, page.getByRole('button', { name: 'Report the issue' }));
    const summary = await page.locator('.error-summary').innerText();
    assert.match(summary, /Say what is wrong, in a few words/);
    assert.match(summary, /Say how much this stops you working/);
    assert.equal(await page.getByLabel('Details').inputValue(), 'The printer on floor 2 says "paper jam" but there is none.');
    assert.equal(await page.getByLabel(/^What is it about/).inputValue(), 'hardware');
    assert.equal(await page.getByLabel('Which service?').inputValue(), String(ids.service));
    await screenshot(page, 'portal-report-error', { fullPage: true });

    await page.getByLabel(/^What is wrong/).fill('Printer reports a paper jam');
    await page.getByLabel('I can work, but slowly or with a workaround').check();
    await go(page, page.getByRole('button', { name: 'Report the issue' }));
    assert.match(pathOf(page), /^\/portal\/records\/INC\d+$/);
    numbers.incident = pathOf(page).split('/').pop();
    assert.match(await page.locator('.flash').innerText(), /your issue was reported/);
    assert.match(await page.locator('.status-line').innerText(), /Status: New/);
    const got = await (await api.get(`${server.url}/api/v1/incidents/${numbers.incident}`)).json();
    assert.equal(got.requesterId, ids.carol);
    assert.equal(got.channel, 'portal');
    assert.equal(got.urgency, 2);
    await screenshot(page, 'portal-reported', { fullPage: true });
  });

  test('a catalog item\'s form is rendered from its variables, and a refused form keeps what was typed', async () => {
    const { page } = carol;
    await page.goto(`${server.url}/portal`);
    await go(page, page.getByRole('link', { name: 'Request something' }));
    assert.deepEqual(await page.locator('.catalog-group h2').allInnerTexts(), ['Access', 'Hardware']);
    await screenshot(page, 'portal-catalog');
    await go(page, page.getByRole('link', { name: 'New laptop' }));
    assert.equal(await page.locator('h1').innerText(), 'New laptop');
    assert.equal(await page.locator('#var-model').evaluate((e) => e.tagName), 'SELECT');
    assert.equal(await page.locator('#var-needed_by').getAttribute('type'), 'date');
    assert.match(await page.locator('#var-screens-hint').innerText(), /From 0 to 2/);

    await page.getByLabel(/^Model/).selectOption('15-inch');
    await page.getByLabel(/^Needed by/).fill('2031-03-01');
    await page.getByLabel(/^Extra screens/).fill('5');
    await page.getByLabel(/^For whom/).fill('nobody');
    await page.getByLabel(/^Docking station/).fill('dock-room-214');
    await page.getByLabel(/^Anything special/).fill('A UK keyboard, please.');
    await go(page, page.getByRole('button', { name: 'Submit the request' }));
    const summary = page.locator('.error-summary');
    assert.match(await summary.innerText(), /For whom: there is no user named "nobody"/);
    assert.equal(await page.getByLabel(/^Model/).inputValue(), '15-inch');
    assert.equal(await page.getByLabel(/^Needed by/).inputValue(), '2031-03-01');
    assert.equal(await page.getByLabel(/^Extra screens/).inputValue(), '5');
    assert.equal(await page.getByLabel(/^Anything special/).inputValue(), 'A UK keyboard, please.');
    assert.equal(await page.getByLabel(/^For whom/).getAttribute('aria-invalid'), 'true');

    await page.getByLabel(/^For whom/).fill('dave');
    await go(page, page.getByRole('button', { name: 'Submit the request' }));
    assert.match(await page.locator('.error-summary').innerText(), /Extra screens: at most 2/);
    assert.equal(await page.getByLabel(/^Extra screens/).getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByLabel(/^For whom/).inputValue(), 'dave');
    await screenshot(page, 'portal-item-error', { fullPage: true });

    await page.getByLabel(/^Extra screens/).fill('2');
    await go(page, page.getByRole('button', { name: 'Submit the request' }));
    assert.match(pathOf(page), /^\/portal\/records\/REQ\d+$/);
    numbers.request = pathOf(page).split('/').pop();
    assert.match(await page.locator('.flash').innerText(), /Your request was submitted/);
    const told = await page.locator('main').innerText();
    assert.match(told, /15-inch/);
    assert.match(told, /Dave Deskmate|dave/);
    assert.match(told, /dock-room-214/);
    await screenshot(page, 'portal-requested', { fullPage: true });
  });

  test('"my incidents and requests" lists both with their status', async () => {
    const { page } = carol;
    await page.goto(`${server.url}/portal`);
    const incidents = page.locator('section', { has: page.locator('#my-inc-h') });
    const requests = page.locator('section', { has: page.locator('#my-req-h') });
    assert.match(await incidents.innerText(), new RegExp(`${numbers.incident}\\s+Printer reports a paper jam\\s+New`));
    assert.match(await requests.innerText(), new RegExp(`${numbers.request}\\s+New laptop\\s+Submitted`));
    await screenshot(page, 'portal-home', { fullPage: true });
    // Dave does not see them, and cannot open them.
    const dave = await newPage(browser);
    try {
      await signIn(dave.page, server, 'dave', PASSWORD);
      await dave.page.goto(`${server.url}/portal`);
      assert.doesNotMatch(await dave.page.locator('main').innerText(), new RegExp(numbers.incident));
      const res = await dave.page.goto(`${server.url}/portal/records/${numbers.incident}`);
      assert.equal(res.status(), 404);
      dave.csp.assertNone();
    } finally {
      await dave.context.close();
    }
  });

  test('the caller comments, then confirms the resolution the desk gave', async () => {
    // The desk resolves the incident through the API, with a work note the caller never sees.
    const inc = await api.get(`${server.url}/api/v1/incidents/${numbers.incident}`);
    const res = await api.post(`${server.url}/api/v1/incidents/${numbers.incident}/actions/resolve`, {
      headers: { 'If-Match': inc.headers().etag },
      data: { comment: 'Internal: the tray sensor is dirty; cleaned it.', resolutionCode: 'permanent', resolutionNotes: 'Cleaned the paper sensor.' },
    });
    assert.equal(res.status(), 200, await res.text());

    const { page } = carol;
    await page.goto(`${server.url}/portal`);
    const waiting = page.locator('.waiting-you');
    assert.match(await waiting.innerText(), new RegExp(`${numbers.incident}[\\s\\S]*Confirm or reject the resolution`));
    await go(page, waiting.getByRole('link', { name: numbers.incident }));
    const turn = page.locator('#your-turn');
    assert.match(await turn.innerText(), /Solved \(permanently\)/);
    assert.match(await turn.innerText(), /Cleaned the paper sensor/);
    assert.doesNotMatch(await page.locator('main').innerText(), /tray sensor is dirty/, 'no work notes in the portal');

    await page.getByLabel('Your comment').fill('Thanks, it prints again.');
    await go(page, page.getByRole('button', { name: 'Add comment' }));
    assert.match(await page.locator('.flash').innerText(), /Your comment was added/);
    assert.match(await page.locator('#comments').innerText(), /Carol|carol[\s\S]*Thanks, it prints again\./);
    await screenshot(page, 'portal-resolved', { fullPage: true });

    // Rejecting without a reason is refused at the field.
    await go(page, page.getByRole('button', { name: 'Reject the resolution' }));
    assert.match(await page.locator('.error-summary').innerText(), /Say why/);
    assert.equal(await page.locator('#reject_resolution-reason').getAttribute('aria-invalid'), 'true');

    await go(page, page.getByRole('button', { name: 'Confirm the resolution' }));
    assert.match(await page.locator('.flash').innerText(), /the incident is closed/);
    assert.match(await page.locator('.status-line').innerText(), /Status: Closed/);
    const got = await (await api.get(`${server.url}/api/v1/incidents/${numbers.incident}`)).json();
    assert.equal(got.state, 'closed');
    await screenshot(page, 'portal-confirmed', { fullPage: true });
  });

  test('a catalog approval waits in the approver\'s "My approvals", needs a reason to reject, and is approved', async () => {
    const { page } = admin;
    const me = (await (await api.get(`${server.url}/api/v1/me`)).json()).id;
    const teamURL = `${server.url}/api/v1/teams/${ids.team}`;
    const etag = (await api.get(teamURL)).headers().etag;
    const patched = await api.patch(teamURL, { headers: { 'If-Match': etag }, data: { members: [me] } });
    assert.equal(patched.status(), 200, await patched.text());
    const item = await api.post(`${server.url}/api/v1/catalog/items`, { data: { name: 'Headset', description: 'A USB headset.',
      category: 'hardware', serviceId: ids.service, approvals: [{ kind: 'group', teamId: ids.team }],
      tasks: [{ name: 'Hand it over', teamId: ids.team, stage: 1 }] } });
    assert.equal(item.status(), 201, await item.text());
    const req = await carol.page.context().request.post(`${server.url}/api/v1/requests`, { data: { catalogItemId: (await item.json()).id } });
    assert.equal(req.status(), 201, await req.text());
    const number = (await req.json()).number;
    const valid = await api.post(`${server.url}/api/v1/requests/${number}/actions/validate`, { headers: { 'If-Match': req.headers().etag }, data: {} });
    assert.ok(valid.ok(), await valid.text());

    await page.goto(`${server.url}/approvals`);
    const card = page.locator('#request-approvals article', { hasText: number });
    assert.equal(await card.count(), 1);
    assert.match(await card.innerText(), /Headset · requested by Carol Caller · level 1: team Workplace services/);
    await go(page, card.getByRole('button', { name: /Reject/ }));
    assert.match(await page.locator('#request-approvals').innerText(), /Give the reason for the rejection/);
    await screenshot(page, 'approvals-request-error', { fullPage: true });
    await go(page, page.locator('#request-approvals article', { hasText: number }).getByRole('button', { name: /Approve/ }));
    assert.equal(await page.locator('#request-approvals article', { hasText: number }).count(), 0, 'no longer waiting');
    const after = await (await api.get(`${server.url}/api/v1/requests/${number}`)).json();
    assert.equal(after.state, 'in_fulfilment');
  });
});
