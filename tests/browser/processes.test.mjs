// The processes: a domain lists its processes, a process page shows its
// activities, RACI matrix and what you may do, the guide prints, the RACI
// editor explains a bad edit, role assignments show in who-does-what, and a
// record shows its guarded actions.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { firstSignIn, launchBrowser, newPage, pathOf, screenshot, signIn, startServer } from './harness.mjs';

const DANA_PASSWORD = 'a long enough password for the analyst';

describe('processes', () => {
  let server, browser, ctx, danaID;

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

  /** Clicks a link or button and waits for the page it loads. */
  async function go(page, locator) {
    await Promise.all([page.waitForNavigation(), locator.click()]);
  }

  test('browse a domain, then a process with its activities and RACI matrix', async () => {
    const { page } = ctx;
    await page.goto(`${server.url}/`);
    await go(page, page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Service Operations' }));
    assert.equal(pathOf(page), '/operations');
    const main = page.locator('main');
    assert.match(await main.innerText(), /Only the processes marked with records below have records and workflows of their own in Steward yet/);
    assert.match(await page.locator('.process-list .proc', { hasText: 'Event Management' }).innerText(), /no records or workflows in Steward yet/);
    for (const code of ['AcM', 'EM', 'IM', 'PM', 'RF']) {
      assert.equal(await page.locator(`.process-list a[href="/processes/${code}"]`).count(), 1, `${code} is listed`);
    }
    await go(page, page.getByRole('link', { name: /IM Incident Management/ }));
    assert.equal(pathOf(page), '/processes/IM');
    assert.equal(await page.locator('h1').innerText(), 'Incident Management');
    assert.equal(await page.locator('nav a[aria-current="page"]').innerText(), 'Processes');

    const activities = page.locator('table.activities tbody tr');
    assert.equal(await activities.count(), 8, 'IM1–IM8');
    assert.match(await page.locator('#act-IM5').innerText(), /Resolve and Recover Incident/);
    assert.match(await page.locator('#act-IM5 .verdict').innerText(), /only as an administrator \(override\)/,
      'the admin holds no role, so only the override allows it');
    await screenshot(page, 'process');
    // The description opens without JavaScript.
    await page.locator('#act-IM5 summary').click();
    assert.match(await page.locator('#act-IM5 details').innerText(), /restore service/);

    const raci = page.locator('#raci table.raci');
    assert.equal(await raci.locator('thead th[scope="col"]').count(), 5, 'the activity column and four roles');
    assert.equal(await raci.locator('tbody th[scope="row"]').count(), 8);
    const im5 = raci.locator('tbody tr', { hasText: 'IM5' });
    assert.deepEqual((await im5.locator('td').allInnerTexts()).map((s) => s.trim()), ['I', 'A', 'I', 'R']);
    assert.equal(await raci.locator('abbr[title="Accountable"]').count(), 8, 'one A per activity');
    for (const name of ['Printable guide', 'RACI as CSV', 'Edit RACI', 'Assign roles']) {
      assert.equal(await page.locator('.toolbar').getByRole('link', { name }).count(), 1, name);
    }
    const csv = await page.context().request.get(`${server.url}/api/v1/processes/IM/raci.csv`);
    assert.equal(csv.status(), 200);
    assert.match(await csv.text(), /^UNCLASSIFIED\r?\nActivity,Name,/);
    await screenshot(page, 'process-full', { fullPage: true });
  });

  test('the process guide is one printable page, and print leaves out the navigation', async () => {
    const { page } = ctx;
    await page.goto(`${server.url}/processes/ITSCM.2`);
    await go(page, page.locator('.toolbar').getByRole('link', { name: 'Printable guide' }));
    assert.equal(pathOf(page), '/processes/ITSCM.2/guide');
    assert.match(await page.locator('h1').innerText(), /ITSCM\.2\s+Implement DRP/);
    const acts = page.locator('.guide-act h3');
    assert.equal(await acts.count(), 11, 'ITSCM.2.1–ITSCM.2.11');
    assert.match(await acts.first().innerText(), /ITSCM\.2\.1/);
    assert.equal(await page.locator('.guide table.raci thead th[scope="col"]').count(), 14, 'the thirteen TAXUD columns');
    assert.ok(await page.getByRole('navigation', { name: 'Main' }).isVisible(), 'on screen the navigation is there');
    await screenshot(page, 'guide');
    await screenshot(page, 'guide-full', { fullPage: true });

    await page.emulateMedia({ media: 'print' });
    try {
      for (const sel of ['.sidenav', '.masthead', '.footer', '.screen-only']) {
        assert.equal(await page.locator(sel).first().isVisible(), false, `${sel} is hidden in print`);
      }
      const top = page.locator('.banner-top');
      const bottom = page.locator('.banner-bottom');
      assert.ok(await top.isVisible() && await bottom.isVisible(), 'both banners print');
      assert.equal(await top.innerText(), 'UNCLASSIFIED');
      const topBox = await top.boundingBox();
      const bottomBox = await bottom.boundingBox();
      const height = await page.evaluate(() => document.documentElement.scrollHeight);
      assert.equal(Math.round(topBox.y), 0, 'the marking opens the document');
      assert.ok(bottomBox.y + bottomBox.height >= height - 2, 'the marking closes the document');
      const guideBox = await page.locator('.guide').boundingBox();
      assert.ok(guideBox.x < 40, `the guide starts at the left edge in print (x=${guideBox.x})`);
      await screenshot(page, 'guide-print', { fullPage: true });
      // Every printed page carries the marking in its margins (/banner.css).
      const css = await (await page.context().request.get(`${server.url}/banner.css`)).text();
      assert.match(css, /@top-center\{content:"UNCLASSIFIED"/);
      assert.match(css, /@bottom-center\{content:"UNCLASSIFIED"/);
      const pdf = await page.pdf({ format: 'A4', printBackground: true });
      assert.ok(pdf.length > 10_000, 'the guide prints to a PDF');
    } finally {
      await page.emulateMedia({ media: 'screen' });
    }
  });

  test('an administrator edits a RACI cell, and two As show the error naming the activity', async () => {
    const { page } = ctx;
    await page.goto(`${server.url}/processes/IM`);
    await go(page, page.locator('.toolbar').getByRole('link', { name: 'Edit RACI' }));
    assert.equal(pathOf(page), '/processes/IM/raci/edit');
    const cell = (act, role) => page.locator(`input[name="cell:${act}:${role}"]`);
    // Each cell is labelled by its activity and its role.
    const label = await cell('IM5', 'process-developer').evaluate((el) =>
      el.getAttribute('aria-labelledby').split(' ').map((id) => document.getElementById(id).textContent.trim()).join(' | '));
    assert.match(label, /IM5 Resolve and Recover Incident \| Incident Management Process Developer/);

    await cell('IM5', 'process-developer').fill('c/i');
    await page.getByRole('checkbox', { name: /IM6 Close Incident.*Requires approval/ }).check();
    await go(page, page.getByRole('button', { name: 'Save the matrix' }));
    assert.equal(pathOf(page), '/processes/IM');
    assert.match(await page.locator('.flash').innerText(), /The RACI matrix was saved/);
    const im5 = page.locator('#raci table.raci tbody tr', { hasText: 'IM5' });
    assert.deepEqual((await im5.locator('td').allInnerTexts()).map((s) => s.trim()), ['I', 'A', 'IC', 'R']);
    assert.match(await page.locator('#act-IM6 .flags').innerText(), /approval \(A\)/);

    await go(page, page.locator('.toolbar').getByRole('link', { name: 'Edit RACI' }));
    await cell('IM5', 'process-owner').fill('A');
    await go(page, page.getByRole('button', { name: 'Save the matrix' }));
    assert.equal(pathOf(page), '/processes/IM/raci/edit');
    const summary = page.locator('.error-summary');
    assert.match(await summary.innerText(), /IM5 \(Resolve and Recover Incident\): exactly one A per activity: found 2/);
    assert.equal(await cell('IM5', 'process-owner').inputValue(), 'A', 'the input is kept');
    assert.equal(await cell('IM5', 'process-owner').getAttribute('aria-invalid'), 'true');
    assert.match(await page.locator('tr.row-error th').innerText(), /exactly one A per activity/);
    await screenshot(page, 'raci-error');
    // The summary's link leads to the row.
    await summary.getByRole('link').first().click();
    assert.equal(await page.evaluate(() => document.activeElement.name), 'cell:IM5:process-owner');
  });

  test('assigning a role to a user shows in who does what', async () => {
    const { page } = ctx;
    const api = page.context().request;
    const res = await api.post(`${server.url}/api/v1/users`, {
      data: { username: 'dana', displayName: 'Dana Analyst', password: DANA_PASSWORD },
    });
    assert.equal(res.status(), 201, await res.text());
    const dana = await res.json();
    danaID = dana.id;

    await page.goto(`${server.url}/processes/IM`);
    await go(page, page.locator('.toolbar').getByRole('link', { name: 'Assign roles' }));
    assert.equal(pathOf(page), '/processes/IM/roles');
    await page.getByLabel('Role', { exact: true }).selectOption({ label: 'Incident Management Process Analyst/Practitioner' });
    const held = page.getByLabel('Held by');
    assert.match(await held.locator(`option[value="u:${dana.id}"]`).innerText(), /dana — Dana Analyst/);
    await held.selectOption(`u:${dana.id}`);
    await go(page, page.getByRole('button', { name: 'Assign' }));
    assert.match(await page.locator('.flash').innerText(), /The role was assigned/);
    const row = page.locator('#holders tbody tr', { hasText: 'dana' });
    assert.match(await row.innerText(), /Incident Management Process Analyst\/Practitioner/);
    await screenshot(page, 'process-roles');

    await go(page, row.getByRole('link', { name: 'dana' }));
    assert.equal(pathOf(page), `/people/${dana.id}`);
    const main = page.locator('main');
    assert.match(await main.innerText(), /Incident Management Process Analyst\/Practitioner/);
    const duties = page.locator('table.data-duties', { hasText: 'Incident Management' });
    assert.match(await duties.locator('tbody tr', { hasText: 'IM5' }).innerText(), /Resolve and Recover Incident\s+R/);
    await screenshot(page, 'person');

    // The role's page shows the reverse: who holds it, per process.
    await page.goto(`${server.url}/roles/process-analyst`);
    assert.match(await page.locator('tbody tr', { hasText: 'Incident Management' }).innerText(), /dana/);

    // The administrator makes themselves process owner and sees it under My responsibilities.
    await page.goto(`${server.url}/processes/IM/roles`);
    await page.getByLabel('Role', { exact: true }).selectOption('process-owner');
    const me = await (await api.get(`${server.url}/api/v1/me`)).json();
    await page.getByLabel('Held by').selectOption(`u:${me.id}`);
    await go(page, page.getByRole('button', { name: 'Assign' }));
    await go(page, page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My responsibilities' }));
    assert.match(await page.locator('main').innerText(), /Incident Management Process Owner/);
    // As the process owner (A for IM1), the admin now performs IM1 without the override.
    await page.goto(`${server.url}/processes/IM`);
    assert.match(await page.locator('#act-IM1 .verdict').innerText(), /You may perform IM1: you hold A for IM1/);
  });

  test('a record shows its actions with the guard\'s reasons, and an approval goes through the queue', async (t) => {
    const { page } = ctx;
    const api = page.context().request;
    const res = await api.post(`${server.url}/api/v1/processes/IM/documents`, {
      data: { title: 'Incident handling procedure', description: 'How the service desk logs and resolves incidents.',
        kind: 'procedure', body: 'Log every call.\n- Categorise\n- Prioritise' },
    });
    if (res.status() !== 201) {
      // Records come from the process-control area, which this page does not own.
      t.skip(`no record could be created through the process-document API: ${res.status()} ${await res.text()}`);
      return;
    }
    const doc = await res.json();
    const number = doc.number || doc.record?.number;
    assert.ok(number, `the created document has a number: ${JSON.stringify(doc)}`);

    await page.goto(`${server.url}/processes/IM`);
    await go(page, page.locator('#records').getByRole('link', { name: number }));
    assert.equal(pathOf(page), `/records/${number}`);
    assert.match(await page.locator('h1').innerText(), /Incident handling procedure/);
    const submit = page.getByRole('button', { name: 'Submit for review' });
    assert.equal(await submit.isEnabled(), true, 'the process owner holds A for IM1');
    assert.match(await page.locator('#actions').innerText(), /You may perform IM1: you hold A for IM1/);
    assert.match(await page.locator('#journal').innerText(), /System · internal/);
    await page.getByLabel('Entry').fill('Reviewed the wording with the service desk.');
    await go(page, page.getByRole('button', { name: 'Add entry' }));
    assert.match(await page.locator('.flash').innerText(), /The journal entry was added/);
    assert.match(await page.locator('#journal').innerText(), /Reviewed the wording[\s\S]*/);

    // Dana is the analyst: C for IM1, so every button is disabled, with the reason under it.
    const other = await newPage(browser);
    try {
      await signIn(other.page, server, 'dana', DANA_PASSWORD);
      await other.page.goto(`${server.url}/records/${number}`);
      const buttons = other.page.locator('#actions .action button');
      assert.ok(await buttons.count() >= 1);
      for (const b of await buttons.all()) assert.equal(await b.isDisabled(), true);
      const why = await other.page.locator('#actions .why').first().innerText();
      assert.match(why, /You may not perform IM1 \(Establish Incident Management Framework\): it needs R or A, held by/);
      await screenshot(other.page, 'record-refused');

      // Made process manager (R for IM1), she submits the document and asks for its approval.
      const a = await api.post(`${server.url}/api/v1/role-assignments`, { data: { subject: 'IM', role: 'process-manager', userId: danaID } });
      assert.equal(a.status(), 201, await a.text());
      await other.page.reload();
      await go(other.page, other.page.getByRole('button', { name: 'Submit for review' }));
      assert.match(await other.page.locator('.flash').innerText(), /Done: the record moved on/);
      assert.match(await other.page.locator('.record-head').innerText(), /In review/);
      await other.page.getByLabel(/Work note with the action/).fill('Ready: the service desk agreed the wording.');
      await go(other.page, other.page.getByRole('button', { name: 'Approve', exact: true }));
      assert.match(await other.page.locator('.flash').innerText(), /waits for an accountable \(A\) holder's approval/);
      assert.match(await other.page.locator('#waiting').innerText(), /Approve IM1: waiting for approval[\s\S]*approvers: admin/);
      assert.equal(await other.page.getByRole('button', { name: 'Approve', exact: true }).isDisabled(), true, 'requested once');
      await screenshot(other.page, 'record', { fullPage: true });
      other.csp.assertNone();
    } finally {
      await other.context.close();
    }

    // The administrator (A for IM1) finds it in the queue, and a rejection needs a reason.
    await go(page, page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My approvals' }));
    assert.equal(await page.locator('h1').innerText(), 'My approvals and consultations');
    const item = page.locator('#approvals .queue-item', { hasText: number });
    assert.match(await item.innerText(), /Approve \(IM1\): In review → Approved · requested by dana/);
    await screenshot(page, 'approvals');
    await item.getByRole('button', { name: /^Approve/ }).click();
    await page.waitForURL(/\/approvals\?m=step-approved/);
    assert.match(await page.locator('.flash').innerText(), /Approved: the step was applied/);
    assert.match(await page.locator('#approvals').innerText(), /Nothing waits for your approval/);
    await page.goto(`${server.url}/records/${number}`);
    assert.match(await page.locator('.record-head').innerText(), /Approved/);
  });

  test('on a narrow screen the process pages fit without sideways scrolling', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 } });
    await phone.addCookies(await ctx.context.cookies());
    const page = await phone.newPage();
    for (const p of ['/processes', '/operations', '/processes/IM', '/processes/IM/guide']) {
      await page.goto(server.url + p);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `${p} is ${overflow}px wider than the screen`);
    }
    await page.goto(`${server.url}/processes/IM`);
    await screenshot(page, 'process-narrow');
    await phone.close();
  });
});
