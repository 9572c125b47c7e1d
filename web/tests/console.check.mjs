// The dashboard's terminal against a real guest (run by tests/qemu_console_test.cc, which boots
// the guest and passes CORRAL_URL, CORRAL_ADMIN_TOKEN, CORRAL_VM): a member logs in, opens the
// VM's console (xterm.js over wss://…/console/ws), sees the guest's shell prompt, runs uname
// and reads its answer; no console error. Exit status 0 when all of that held.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test, after } from 'node:test';
import { launchBrowser, logIn, newPage, screenshotDir } from './harness.mjs';

const url = process.env.CORRAL_URL;
const adminToken = process.env.CORRAL_ADMIN_TOKEN;
const vm = process.env.CORRAL_VM;
// The cluster CA made the server's certificate; this check is about the console, not about
// teaching Chromium that CA, so the context accepts the certificate (HTTPS and WSS alike).
const server = { url };
let browser;

after(async () => { await browser?.close(); });

async function admin(method, path, body) {
  const r = await fetch(url + path, { method, headers: { Authorization: `Bearer ${adminToken}`,
    'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: r.status, body: await r.json().catch(() => null) };
}

test('the console shows the guest prompt and runs uname, in the browser', async () => {
  assert.ok(url && adminToken && vm, 'CORRAL_URL, CORRAL_ADMIN_TOKEN and CORRAL_VM are set');
  const made = await admin('POST', '/v1/users', { name: 'carol', password: 'password-carol', project: 'admin', role: 'member' });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  browser = await launchBrowser();
  const page = await newPage(browser, { ignoreHTTPSErrors: true });
  await logIn(page, server, 'carol', 'password-carol', 'admin');
  await page.goto(`${url}/#/vms/${vm}`);
  await page.click('#console-open');
  await page.waitForSelector('#console-terminal .xterm-rows');
  await page.waitForFunction(() => /console connected/.test(document.querySelector('#status')?.textContent ?? ''));
  const screen = () => page.evaluate(() => document.querySelector('#console-terminal .xterm-rows')?.textContent ?? '');
  await page.click('#console-terminal');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => /# ?$/m.test([...document.querySelectorAll('#console-terminal .xterm-rows > div')]
    .map((r) => r.textContent.trimEnd()).filter(Boolean).at(-1) ?? ''), null, { timeout: 20000 });
  await page.keyboard.type('uname -s; echo "sum=$((6*7))"');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => /sum=42/.test(document.querySelector('#console-terminal .xterm-rows')?.textContent ?? ''),
                             null, { timeout: 20000 });
  const text = await screen();
  assert.match(text, /Linux/, text);
  await page.screenshot({ path: join(screenshotDir(), 'console.png') });
  assert.deepEqual(page.errors, []);
});
