// Configuration management: a small CI tree built through the API, the impact
// graph of one server (its cluster degraded, the business service on top), a
// click on a node, the CI page and the list.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { firstSignIn, launchBrowser, newPage, pathOf, screenshot, startServer } from './harness.mjs';

describe('cmdb', () => {
  let server, browser, ctx;
  const ids = {};

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    ctx = await newPage(browser);
    await firstSignIn(ctx.page, server);

    // The API with the admin's session: a switch, three servers in a cluster that needs
    // two of them, a database on the cluster, an application using it, and the business
    // service the application provides.
    const api = ctx.page.context().request;
    const post = async (path, data) => {
      const res = await api.post(`${server.url}${path}`, { data });
      assert.equal(res.status(), 201, `${path}: ${await res.text()}`);
      return res.json();
    };
    const ci = async (key, body) => { ids[key] = (await post('/api/v1/cis', body)).id; };
    const relate = (src, type, dst) => post(`/api/v1/cis/${ids[src]}/relations`, { type, targetId: ids[dst] });

    await ci('switch', { class: 'network_device', name: 'core-sw-01', attributes: { device_type: 'switch' } });
    await ci('cluster', { class: 'cluster', name: 'prod-vm-cluster', minUp: 2, attributes: { cluster_type: 'compute' } });
    for (const n of [1, 2, 3]) {
      await ci(`srv${n}`, { class: 'server', name: `esx-0${n}.prod.example.mil`,
        attributes: { hostname: `esx-0${n}`, os: 'ESXi 8', serial_number: `SN-00${n}` } });
      await relate(`srv${n}`, 'connected_to', 'switch');
      await relate(`srv${n}`, 'member_of', 'cluster');
    }
    await ci('db', { class: 'database', name: 'orders-db', attributes: { engine: 'postgresql', port: 5432 } });
    await relate('db', 'runs_on', 'cluster');
    await ci('app', { class: 'application', name: 'Orders application' });
    await relate('app', 'depends_on', 'db');
    ids.service = (await post('/api/v1/services', { name: 'Order fulfilment', kind: 'business', criticality: 'mission_critical',
      missionPartners: ['1st Logistics Command', 'Coalition Partner Bravo'] })).id;
    await relate('app', 'provides', 'service');
  });
  afterEach(() => ctx.csp.assertNone());
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('the impact graph of a server shows its degraded cluster and the service, and a node leads to its CI', async () => {
    const { page } = ctx;
    await page.goto(`${server.url}/cmdb/cis/${ids.srv1}/impact`);
    assert.equal(await page.locator('h1').innerText(), 'Impact of esx-01.prod.example.mil');
    const svg = page.locator('svg.g-svg');
    assert.ok(await svg.isVisible(), 'the graph is drawn');

    const cluster = svg.locator(`g.g-node[data-id="${ids.cluster}"]`);
    assert.equal(await cluster.count(), 1, 'the cluster is a node');
    assert.match(await cluster.getAttribute('class'), /\bg-degraded\b/, 'the cluster is degraded');
    assert.match(await cluster.textContent(), /1\/3 members down/);
    assert.match(await cluster.textContent(), /degraded/, 'the state is written, not only coloured');
    const service = svg.locator(`g.g-node[data-id="${ids.service}"]`);
    assert.equal(await service.count(), 1, 'the business service is a node');
    assert.match(await service.getAttribute('class'), /\bg-degraded\b/);
    assert.match(await svg.locator(`g.g-node[data-id="${ids.srv1}"]`).getAttribute('class'), /\bg-root\b/);

    const summary = page.locator('.impact-summary');
    assert.match(await summary.innerText(), /Order fulfilment/);
    assert.match(await summary.innerText(), /Mission critical/);
    assert.match(await summary.innerText(), /1st Logistics Command, Coalition Partner Bravo/);
    assert.match(await page.locator('table.data').innerText(), /prod-vm-cluster\s+Cluster\s+degraded\s+1 of 3 members down/);
    // A short chain is scaled to the page's width, so the service is in view without scrolling.
    const box = await service.boundingBox();
    const area = await page.locator('.g-scroll').boundingBox();
    assert.ok(box.x + box.width <= area.x + area.width + 1, 'the service node is within the graph area');
    await screenshot(page, 'cmdb-impact');
    await screenshot(page, 'cmdb-impact-full', { fullPage: true });
    // At full size the drawing keeps its pixels and scrolls.
    await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: 'Show at full size' }).click()]);
    assert.match(page.url(), /fit=0/);
    await screenshot(page, 'cmdb-impact-fullsize');
    await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: 'Fit to the width' }).click()]);

    // A node is a link, reachable by keyboard: it leads to the CI's page.
    const link = svg.locator(`a.g-link[href="/cmdb/cis/${ids.cluster}"]`);
    await link.focus();
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('href')), `/cmdb/cis/${ids.cluster}`);
    await Promise.all([page.waitForNavigation(), svg.locator(`g.g-node[data-id="${ids.cluster}"]`).click()]);
    assert.equal(pathOf(page), `/cmdb/cis/${ids.cluster}`);
    assert.equal(await page.locator('h1').innerText(), 'prod-vm-cluster');
    assert.match(await page.locator('#relations').innerText(), /has member\s*\(3\)/);
    assert.match(await page.locator('#relations').innerText(), /esx-02\.prod\.example\.mil/);
    assert.equal(await page.locator('nav.sidenav a[aria-current="page"]').innerText(), 'Configuration');
    await screenshot(page, 'cmdb-ci', { fullPage: true });
  });

  test('a failed edit shows the error at the field and keeps the input; a good one saves a version', async () => {
    const { page } = ctx;
    await page.goto(`${server.url}/cmdb/cis/${ids.srv3}`);
    await page.locator('#edit summary').click();
    await page.getByLabel('Operating system').fill('ESXi 8.0u3');
    await page.getByLabel('Memory (GB)').fill('lots');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Save' }).click()]);
    assert.match(await page.locator('.error-summary').innerText(), /Memory \(GB\): expected a number/);
    assert.equal(await page.getByLabel('Memory (GB)').inputValue(), 'lots');
    assert.equal(await page.getByLabel('Operating system').inputValue(), 'ESXi 8.0u3');
    assert.equal(await page.getByLabel('Memory (GB)').getAttribute('aria-invalid'), 'true');
    await screenshot(page, 'cmdb-edit-error');

    await page.getByLabel('Memory (GB)').fill('256');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Save' }).click()]);
    assert.equal(pathOf(page), `/cmdb/cis/${ids.srv3}`);
    assert.match(await page.locator('.flash').innerText(), /Saved: the CI is now version 2/);
    assert.match(await page.locator('#history').innerText(), /attributes\.os: ESXi 8 → ESXi 8\.0u3/);
    assert.match(await page.locator('.record-side').innerText(), /attributes\.memory_gb, attributes\.os/,
      'no approved change was named, so the change is flagged');
  });

  test('the upstream view of the service reaches the servers', async () => {
    const { page } = ctx;
    await page.goto(`${server.url}/cmdb/services/${ids.service}`);
    await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: 'Upstream dependencies' }).click()]);
    assert.equal(pathOf(page), `/cmdb/cis/${ids.service}/impact`);
    const svg = page.locator('svg.g-svg');
    for (const key of ['app', 'db', 'cluster', 'srv2']) {
      assert.equal(await svg.locator(`g.g-node[data-id="${ids[key]}"]`).count(), 1, `${key} is upstream of the service`);
    }
    assert.equal(await page.getByLabel('Upstream: what it depends on').isChecked(), true);
    await screenshot(page, 'cmdb-upstream');
  });

  test('the list filters by class, and the what-if outage of two servers takes the cluster down', async () => {
    const { page } = ctx;
    await page.goto(`${server.url}/cmdb`);
    await page.getByLabel('Class', { exact: true }).selectOption('server');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Filter' }).click()]);
    const rows = page.locator('table.data tbody tr');
    assert.equal(await rows.count(), 3);
    assert.match(await page.locator('h2#cis-h').innerText(), /3 CIs/);
    await screenshot(page, 'cmdb-list');

    await page.goto(`${server.url}/cmdb/simulate`);
    await page.getByLabel('CIs that fail together').fill(`esx-01.prod.example.mil\n${ids.srv2}`);
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Analyse' }).click()]);
    const cluster = page.locator(`svg.g-svg g.g-node[data-id="${ids.cluster}"]`);
    assert.match(await cluster.getAttribute('class'), /\bg-down\b/, 'two of three down is below minUp 2');
    assert.match(await page.locator('.impact-summary').innerText(), /Order fulfilment\s+down/);
    await screenshot(page, 'cmdb-simulate');
  });
});
