// Service levels and availability: an agreed SLA on a service gives incidents
// their clocks (the record page's panel), the desk its breaching-soon queue,
// and the service its SLA and availability dashboards drawn as SVG; a business
// calendar is edited from a preset and previewed without saving.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { firstSignIn, launchBrowser, newPage, pathOf, screenshot, startServer } from './harness.mjs';

describe('service levels', () => {
  let server, browser, ctx, api;
  const ids = {};
  const inc = {};
  let agreement;

  // go clicks and waits for the page the click leads to.
  const go = (page, locator) => Promise.all([page.waitForNavigation(), locator.click()]);

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    ctx = await newPage(browser);
    await firstSignIn(ctx.page, server);
    api = ctx.page.context().request;
    const send = async (method, path, data, { status = 200, etag } = {}) => {
      const headers = etag ? { 'If-Match': etag } : {};
      const res = await api.fetch(`${server.url}${path}`, { method, data, headers });
      assert.equal(res.status(), status, `${method} ${path}: ${await res.text()}`);
      return { body: await res.json(), etag: res.headers().etag };
    };
    ids.app = (await send('POST', '/api/v1/cis', { class: 'application', name: 'Mail relay' }, { status: 201 })).body.id;
    ids.service = (await send('POST', '/api/v1/services', { name: 'E-mail', kind: 'business', criticality: 'mission_critical' }, { status: 201 })).body.id;
    await send('POST', `/api/v1/cis/${ids.app}/relations`, { type: 'provides', targetId: ids.service }, { status: 201 });

    // The SLA: respond at once (every unassigned incident breaches it), resolve a P3 in 3 hours, 99.5 % available.
    let a = await send('POST', '/api/v1/agreements', { kind: 'SLA', title: 'E-mail for the east site', customer: 'East site',
      calendarId: 1, services: [ids.service], startsOn: '2026-01-01' }, { status: 201 });
    agreement = a.body.number;
    const target = (t) => ({ priority: 0, durationMs: 0, percent: 0, recordTypes: [], categories: [], customerTeams: [], warnings: [], escalations: [], ...t });
    a = await send('PUT', `/api/v1/agreements/${agreement}/targets`, { targets: [
      target({ name: 'Response', kind: 'response', durationMs: 1, percent: 95 }),
      target({ name: 'Resolution P2', kind: 'resolution', priority: 2, durationMs: 8 * 3600_000, percent: 90 }),
      target({ name: 'Resolution P3', kind: 'resolution', priority: 3, durationMs: 3 * 3600_000, percent: 90 }),
      target({ name: 'Availability', kind: 'availability', percent: 99.5 }),
    ] }, { etag: a.etag });
    let etag = a.etag;
    for (const action of ['negotiate', 'agree']) {
      etag = (await send('POST', `/api/v1/agreements/${agreement}/actions/${action}`, { comment: `${action} in the test` }, { etag })).etag;
    }

    const log = async (key, title, impact, urgency) => {
      inc[key] = (await send('POST', '/api/v1/incidents', { title, description: 'Reported by phone.', impact, urgency, category: 'software',
        subcategory: 'email', service: ids.service, ci: ids.app, channel: 'phone' }, { status: 201 })).body;
    };
    await log('bounces', 'Mail bounces for the east site', 2, 2); // P3
    await log('slow', 'Webmail slow to open', 2, 1); // P2

    const hour = 3600_000;
    const now = Date.now();
    await send('POST', '/api/v1/outages', { serviceId: ids.service, kind: 'unplanned', startedAt: new Date(now - 5 * hour).toISOString(),
      endedAt: new Date(now - 4 * hour).toISOString(), description: 'Relay down after a certificate expired' }, { status: 201 });
    await send('POST', '/api/v1/outages', { serviceId: ids.service, kind: 'planned', startedAt: new Date(now - 30 * hour).toISOString(),
      endedAt: new Date(now - 28 * hour).toISOString(), description: 'Relay patching' }, { status: 201 });
  });
  afterEach(() => ctx.csp.assertNone());
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('the record page shows each clock with its progress, and the desk the breaching-soon queue', async () => {
    const { page } = ctx;
    // The tracker tails the audit trail every 2 seconds: wait for the clocks it stores.
    let rows = 0;
    for (let i = 0; i < 50 && rows < 3; i++) {
      await page.goto(`${server.url}/desk?queue=breaching`);
      rows = await page.locator('table.queue-table tbody tr').count();
      if (rows < 3) await page.waitForTimeout(300);
    }
    assert.equal(rows, 3, 'two responses breached and the P3 resolution due within 4 hours (the P2 one, due in 8, is not listed)');
    assert.equal(await page.locator('.queue-tabs a[aria-current="page"]').innerText(), 'Breaching soon');
    assert.deepEqual(await page.locator('.queue-tabs a').allInnerTexts(), ['Mine', 'My teams', 'Unassigned', 'Major', 'Breaching soon']);
    assert.match(await page.locator('table.queue-table tbody tr').first().innerText(), /Breached/);
    assert.match(await page.locator('h1').innerText(), /Breaching soon · \d+ clocks/);
    await screenshot(page, 'sla-breaching-queue', { fullPage: true });

    await go(page, page.locator('table.queue-table tbody a', { hasText: inc.bounces.number }).first());
    assert.equal(pathOf(page), `/records/${inc.bounces.number}`);
    const panel = page.locator('#service-levels');
    await panel.scrollIntoViewIfNeeded();
    const text = await panel.innerText();
    assert.match(text, /Response[\s\S]*Breached, still running/);
    assert.match(text, /Resolution P3[\s\S]*Running/);
    assert.match(text, /Allowed\s+3 h/);
    assert.doesNotMatch(text, /Resolution P2/, 'a P3 incident has no P2 clock');
    assert.equal(await panel.locator('.sla-bar[role="img"]').count(), 2);
    assert.equal(await panel.locator('.sla-fill.sla-over').count(), 1);
    await screenshot(page, 'sla-record-clocks', { fullPage: true });
  });

  test('the SLA and availability dashboards draw their charts with the figures as tables', async () => {
    const { page } = ctx;
    await page.goto(`${server.url}/`);
    await go(page, page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Service levels' }));
    assert.equal(pathOf(page), '/sla');
    const row = page.locator('table.data tbody tr', { hasText: 'E-mail' });
    assert.match(await row.innerText(), new RegExp(agreement));
    assert.match(await row.innerText(), /0 %/, 'two responses breached, none met yet');
    await screenshot(page, 'sla-overview');

    await go(page, row.getByRole('link', { name: 'E-mail' }));
    assert.equal(pathOf(page), `/sla/services/${ids.service}`);
    const charts = page.locator('svg.ch-svg[role="img"]');
    assert.equal(await charts.count(), 2);
    assert.equal(await page.locator('svg#x, svg.ch-svg title').first().textContent(), 'Achievement of E-mail per month');
    assert.equal(await page.locator('#achievement-trend .ch-target').count(), 2, 'the goal line and its legend swatch');
    await page.locator('#breaches-by-priority summary').click();
    const table = page.locator('#breaches-by-priority table');
    assert.match(await table.innerText(), /P2\s+1[\s\S]*P3\s+1/);
    assert.match(await page.locator('table.data', { hasText: 'Resolution P3' }).last().innerText(), /Response[\s\S]*missed/);
    await screenshot(page, 'sla-service-dashboard', { fullPage: true });

    await go(page, page.locator('.cmdb-tabs').getByRole('link', { name: 'Availability' }));
    assert.equal(pathOf(page), `/availability/services/${ids.service}`);
    assert.equal(await page.locator('svg.ch-svg[role="img"]').count(), 2);
    const kpis = await page.locator('.kpis').innerText();
    assert.match(kpis, /MTRS\s+1 h/);
    assert.match(kpis, /1 failure/);
    assert.match(kpis, /target 99\.5 %/);
    const outages = await page.locator('table.data', { hasText: 'Relay patching' }).innerText();
    assert.match(outages, /Relay down after a certificate expired[\s\S]*Relay patching/, 'newest first');
    await screenshot(page, 'sla-availability-dashboard', { fullPage: true });
  });

  test('an agreement lists its targets and takes its workflow steps', async () => {
    const { page } = ctx;
    await page.goto(`${server.url}/sla`);
    await go(page, page.getByRole('link', { name: 'Agreements', exact: true }));
    await go(page, page.getByRole('link', { name: agreement }));
    assert.match(await page.locator('#targets').innerText(), /Resolution P3[\s\S]*3 h[\s\S]*90 % within it/);
    assert.match(await page.locator('#targets').innerText(), /99\.5 % available/);
    assert.ok(await page.getByRole('button', { name: 'Archive' }).isEnabled());
    await screenshot(page, 'sla-agreement', { fullPage: true });
  });

  test('a calendar is built from a preset, refused with errors at its rows, previewed without saving, and saved', async () => {
    const { page } = ctx;
    await page.goto(`${server.url}/calendars`);
    assert.match(await page.locator('table.data').innerText(), /24×7[\s\S]*168 h/);
    await go(page, page.getByRole('link', { name: 'New calendar' }));
    await page.getByLabel('Name', { exact: true }).fill('Brussels split shift');
    await page.getByLabel('Time zone').fill('Europe/Brussels');
    await page.getByLabel('Working hours').selectOption('split-shift');
    await go(page, page.getByRole('button', { name: 'Apply preset' }));
    assert.equal(await page.getByLabel('Window 10: end', { exact: true }).inputValue(), '18:00');
    assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'Brussels split shift');

    // A window that ends before it starts is refused at its row, with everything typed kept.
    await page.getByLabel('Window 11: day').selectOption('sat');
    await page.getByLabel('Window 11: start').fill('10:00');
    await page.getByLabel('Window 11: end').fill('09:00');
    await page.getByLabel('Holiday list').selectOption('us-federal-2026');
    await go(page, page.getByRole('button', { name: 'Add these holidays' }));
    await page.getByLabel('Week of').fill('2026-11-23');
    await go(page, page.getByRole('button', { name: 'Preview' }).last());
    assert.match(await page.locator('.error-summary').innerText(), /Window 11, end: the end must be after the start/);
    assert.equal(await page.getByLabel('Window 11: end').inputValue(), '09:00');
    await screenshot(page, 'sla-calendar-error', { fullPage: true });

    await page.getByLabel('Window 11: end').fill('14:00');
    await go(page, page.getByRole('button', { name: 'Preview' }).last());
    const grid = page.locator('#week-preview');
    assert.equal(await grid.locator('svg[role="img"] rect.ch-work').count(), 9, 'two spans on each weekday but Thanksgiving, and Saturday morning');
    await grid.locator('summary').click();
    assert.match(await grid.locator('table').innerText(), /Thu 26 Nov\s+none \(Holiday: Thanksgiving Day\)\s+0 h[\s\S]*Sat 28 Nov\s+10:00–14:00\s+4 h/);
    assert.equal(pathOf(page), '/calendars/new', 'nothing was saved');
    await screenshot(page, 'sla-calendar-preview', { fullPage: true });

    await go(page, page.getByRole('button', { name: 'Create calendar' }));
    assert.match(await page.locator('.flash').innerText(), /The calendar was created/);
    assert.match(pathOf(page), /^\/calendars\/\d+$/);
    await page.goto(`${server.url}/calendars`);
    assert.match(await page.locator('table.data').innerText(), /Brussels split shift\n[^\n]*\tEurope\/Brussels\t54 h/);
  });
});
