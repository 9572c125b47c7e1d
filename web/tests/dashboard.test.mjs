// The dashboard in headless Chromium against a real corral server (issue 16): log in, create a
// VM and watch it go from PENDING to RUNNING without a reload, pause it and read PAUSED in each
// vocabulary, a refused action shows the API's message, a reader cannot act, another project's
// member cannot see, axe-core finds no serious violation, no console error. Screenshots are
// kept in $SCREENSHOT_DIR.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { api, axeViolations, kAdminPassword, launchBrowser, logIn, newPage, screenshotDir, startServer } from './harness.mjs';

let server;
let browser;
let alice;  // member of research: the page most steps use
let vmId;
const shots = screenshotDir();

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  for (const name of ['research', 'other']) {
    assert.equal((await api(server, 'POST', '/v1/projects', { name })).status, 201);
  }
  for (const [name, project, role] of [['alice', 'research', 'member'], ['rita', 'research', 'reader'],
                                       ['olga', 'other', 'member']]) {
    const made = await api(server, 'POST', '/v1/users', { name, password: `password-${name}`, project, role });
    assert.equal(made.status, 201, JSON.stringify(made.body));
  }
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('a wrong password is refused with the API message and the form stays', async () => {
  const page = await newPage(browser);
  await page.goto(server.url + '/');
  await page.fill('#login-user', 'alice');
  await page.fill('#login-password', 'not-her-password');
  await page.press('#login-password', 'Enter');
  await page.waitForFunction(() => document.querySelector('#login-error')?.textContent !== '');
  assert.match(await page.textContent('#login-error'), /password/i);
  assert.equal(await page.locator('#vms-table').count(), 0);
  await page.context().close();
});

test('log in, create a VM and watch it go from PENDING to RUNNING without reloading', async () => {
  alice = await newPage(browser);
  await logIn(alice, server, 'alice', 'password-alice', 'research');
  assert.match(await alice.textContent('#who'), /alice · research · member/);
  await alice.evaluate(() => { window.__notReloaded = true; });
  await alice.click('#create-vm');
  await alice.fill('#field-name', 'web-1');
  await alice.fill('#field-image', 'debian-12');
  await alice.click('dialog button[type=submit]');
  const row = alice.locator('#vms-table tbody tr', { hasText: 'web-1' });
  await row.waitFor();
  vmId = Number(await row.getAttribute('data-vm'));
  const seen = [];
  const deadline = Date.now() + 60000;
  while (Date.now() < deadline) {
    const state = await row.locator('td[data-col=state]').textContent();
    if (seen.at(-1) !== state) seen.push(state);
    if (state === 'RUNNING') break;
    await alice.waitForTimeout(50);
  }
  assert.ok(seen.includes('PENDING'), `states seen: ${seen}`);
  assert.equal(seen.at(-1), 'RUNNING', `states seen: ${seen}`);
  assert.equal(await alice.evaluate(() => window.__notReloaded), true, 'the page was reloaded');
  const vm = await api(server, 'GET', `/v1/vms/${vmId}`);
  assert.equal(vm.body.state, 'RUNNING');
  await alice.screenshot({ path: join(shots, 'vms.png') });
});

test('pause it and see it paused in each vocabulary, as the API words it', async () => {
  await alice.goto(`${server.url}/#/vms/${vmId}`);
  await alice.waitForSelector('#vm-actions button[data-verb=pause]');
  // With the keyboard only: Tab to the button, Enter.
  let focused = '';
  for (let i = 0; i < 60 && focused !== 'pause'; ++i) {
    await alice.keyboard.press('Tab');
    focused = await alice.evaluate(() => document.activeElement?.getAttribute('data-verb') ?? '');
  }
  assert.equal(focused, 'pause', 'Tab never reached the pause button');
  await alice.keyboard.press('Enter');
  await alice.waitForFunction(() => document.querySelector('#vm-state')?.textContent === 'PAUSED', null,
                              { timeout: 30000 });
  const { body: vm } = await api(server, 'GET', `/v1/vms/${vmId}`);
  assert.equal(vm.state, 'PAUSED');
  const expected = {
    corral: 'PAUSED',
    opennebula: vm.views.opennebula.state === 'ACTIVE' ? vm.views.opennebula.lcm_state : vm.views.opennebula.state,
    nova: vm.views.nova.status,
    azure: vm.views.azure.statuses.find((s) => s.code.startsWith('PowerState/')).displayStatus,
    stratuslab: vm.views.stratuslab.state,
  };
  // The seeds' words for a paused VM: Nova's PAUSED status (003), OpenNebula's SUSPENDED
  // (001: no pause of its own), StratusLab's Paused (002).
  assert.equal(expected.nova, 'PAUSED');
  assert.equal(expected.opennebula, 'SUSPENDED');
  for (const [vocabulary, words] of Object.entries(expected)) {
    await alice.selectOption('#vocabulary', vocabulary);
    await alice.waitForFunction((w) => document.querySelector('#vm-state')?.textContent === w, words);
    // Every vocabulary's card is on the page whatever the choice; the buttons are the chosen one's.
    assert.equal(await alice.locator('#vm-views section.view').count(), 5);
    await alice.screenshot({ path: join(shots, `vm-paused-${vocabulary}.png`) });
  }
  // In Nova's words a paused server offers unpause, not OpenNebula's resume.
  await alice.selectOption('#vocabulary', 'nova');
  await alice.waitForSelector('#vm-actions button[data-verb=unpause]');
  await alice.selectOption('#vocabulary', 'opennebula');
  await alice.waitForSelector('#vm-actions button[data-verb=resume]');
  await alice.selectOption('#vocabulary', 'corral');
});

test('the buttons are exactly the verbs the API allows', async () => {
  await alice.waitForSelector('#vm-actions button[data-verb=unpause]');
  const verbs = await alice.$$eval('#vm-actions button[data-verb]', (bs) => bs.map((b) => b.dataset.verb));
  // Every verb offered is accepted by the API's own check... (the refusal names what it allows)
  const refused = await api(server, 'POST', `/v1/vms/${vmId}/actions`, { action: 'reboot' });
  assert.equal(refused.status, 409);
  const allowed = refused.body.error.allowed_actions;
  assert.ok(Array.isArray(allowed), JSON.stringify(refused.body));
  const system = new Set(['deploy', 'create']);
  const offered = new Set(verbs);
  for (const a of allowed) {
    if (system.has(a) || a.startsWith('observed_') || a.startsWith('recover') || a === 'reset_state' ||
        a === 'cancel') continue;
    assert.ok(offered.has(a), `the API allows ${a} in PAUSED but no button offers it: ${verbs}`);
  }
  for (const v of verbs) assert.ok(allowed.includes(v), `${v} is offered but the API refuses it: ${allowed}`);
  // ...and of those, a member may not reset a VM's state (the cloud admin's): shown, disabled.
  assert.equal(await alice.locator('#vm-actions button[data-verb=reset_state]').isDisabled(), true);
  assert.equal(await alice.locator('#vm-actions button[data-verb=unpause]').isEnabled(), true);
});

test('a refused action shows the API message', async () => {
  const lock = await api(server, 'PUT', `/v1/vms/${vmId}/lock`, { reason: 'maintenance window' });
  assert.equal(lock.status, 200, JSON.stringify(lock.body));
  await alice.waitForFunction(() => /locked by admin/.test(document.querySelector('.lock')?.textContent ?? ''));
  await alice.click('#vm-actions button[data-verb=unpause]');
  await alice.waitForSelector('#status.error');
  const shown = await alice.textContent('#status');
  const direct = await api(server, 'POST', `/v1/vms/${vmId}/actions`, { action: 'unpause' },
    (await api(server, 'POST', '/v1/auth/tokens', { user: 'alice', password: 'password-alice' })).body.token);
  assert.equal(direct.status, 409);
  assert.equal(shown, direct.body.error.message);
  await alice.screenshot({ path: join(shots, 'refused.png') });
  assert.equal((await api(server, 'DELETE', `/v1/vms/${vmId}/lock`)).status, 200);
});

test('a reader sees the VM but every action is disabled', async () => {
  const rita = await newPage(browser);
  await logIn(rita, server, 'rita', 'password-rita', 'research');
  assert.equal(await rita.locator('#create-vm').isDisabled(), true);
  await rita.goto(`${server.url}/#/vms/${vmId}`);
  await rita.waitForSelector('#vm-actions button[data-verb]');
  const enabled = await rita.$$eval('#vm-actions button', (bs) => bs.filter((b) => !b.disabled).length);
  assert.equal(enabled, 0);
  assert.deepEqual(rita.errors, []);
  await rita.context().close();
});

test('a member of another project cannot see the VM', async () => {
  const olga = await newPage(browser);
  await logIn(olga, server, 'olga', 'password-olga', 'other');
  assert.equal(await olga.locator('#vms-table tbody tr[data-vm]').count(), 0);
  await olga.goto(`${server.url}/#/vms/${vmId}`);
  await olga.waitForSelector('main h1');
  assert.match(await olga.textContent('main'), new RegExp(`No vm ${vmId} here`, 'i'));
  assert.deepEqual(olga.errors, []);
  await olga.context().close();
});

test("the admin's fault injection and a delete are forms", async () => {
  const made = await api(server, 'POST', '/v1/vms', { name: 'web-2', image: 'debian-12', vcpus: 1, memory_mib: 64 });
  assert.equal(made.status, 202);
  const id = made.body.vm.id;
  for (let i = 0; i < 200 && (await api(server, 'GET', `/v1/vms/${id}`)).body.state !== 'RUNNING'; ++i) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const page = await newPage(browser);
  await logIn(page, server, 'admin', kAdminPassword, 'admin');
  await page.goto(`${server.url}/#/vms/${id}`);
  await page.click('#inject-fault');
  await page.selectOption('#field-kind', 'fail');
  await page.fill('#field-action', 'reboot');
  await page.fill('#field-message', 'the disk is on fire');
  await page.click('dialog button[type=submit]');
  await page.waitForFunction(() => /fault \d+ armed/.test(document.querySelector('#status')?.textContent ?? ''));
  await page.click('#vm-actions button[data-verb=reboot]');
  await page.waitForFunction(() => document.querySelector('#op-status')?.textContent === 'failed', null, { timeout: 30000 });
  assert.match(await page.textContent('#vm-operation'), /the disk is on fire/);
  await page.click('#vm-actions button[data-verb=terminate]');
  await page.click('dialog button[type=submit]');  // "terminate web-2 (N)? This cannot be undone."
  await page.waitForFunction(() => document.querySelector('#vm-state')?.textContent === 'DONE', null, { timeout: 30000 });
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('axe-core finds no serious violation on the pages', async () => {
  const page = await newPage(browser, { bypassCSP: true });
  await logIn(page, server, 'alice', 'password-alice', 'research');
  for (const hash of ['#/vms', `#/vms/${vmId}`, '#/hosts', '#/networks', '#/volumes', '#/usage', '#/lifecycle']) {
    await page.goto(`${server.url}/${hash}`);
    await page.waitForSelector('main h1');
    await page.waitForTimeout(300);
    assert.deepEqual(await axeViolations(page), [], `on ${hash}`);
  }
  await page.goto(server.url + '/');
  await page.evaluate(() => sessionStorage.clear());
  await page.reload();
  await page.waitForSelector('#login-user');
  assert.deepEqual(await axeViolations(page), [], 'on the login form');
  await page.screenshot({ path: join(shots, 'login.png') });
  await page.context().close();
});

test('no console error on the way', async () => {
  assert.deepEqual(alice.errors, []);
});
