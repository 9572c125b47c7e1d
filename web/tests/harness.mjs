// What the dashboard's browser tests share: a real `corral server` (sim driver, realistic phase
// times, plain HTTP on a free loopback port, a temporary data dir) started and stopped by PID,
// the v1 API as its admin, and Debian's Chromium driven by playwright-core.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const kAdminPassword = 'admin-password-for-tests';

// `profile`: the sim's phase times (realistic: seconds, as the tests watch them; zero: none);
// `extra`: more server flags.
export async function startServer({ profile = 'realistic', extra = [] } = {}) {
  const bin = process.env.CORRAL_BIN;
  if (!bin) throw new Error('CORRAL_BIN must name the corral binary');
  const dataDir = mkdtempSync(join(tmpdir(), 'corral-dashboard-'));
  writeFileSync(join(dataDir, 'admin-password'), kAdminPassword + '\n', { mode: 0o600 });
  const child = spawn(bin, ['server', '--data-dir', join(dataDir, 'var'), '--listen', '127.0.0.1:0',
    '--plain-http', '--agent-listen', '127.0.0.1:0', '--join-listen', '127.0.0.1:0', '--driver', 'sim',
    '--sim-profile', profile, '--admin-password-file', join(dataDir, 'admin-password'), ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not start in 30 s:\n' + log)), 30000);
    const read = (chunk) => {
      log += chunk;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(log);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.on('exit', (code) => reject(new Error(`the server exited (${code}):\n${log}`)));
  });
  const server = {
    url, dataDir, child, log: () => log,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.on('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  server.adminToken = (await api(server, 'POST', '/v1/auth/tokens',
    { user: 'admin', password: kAdminPassword, project: 'admin' })).body.token;
  return server;
}

// One v1 request; `token` defaults to the admin's.
export async function api(server, method, path, body, token = server.adminToken) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(server.url + path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    // As root in a closed network: no sandbox, no GPU, and none of Chromium's own traffic.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           '--disable-dev-shm-usage'],
  });
}

// A new browser context with a page that records console errors and uncaught exceptions.
// `bypassCSP` only lets the test inject axe-core; the page itself runs under its real policy
// in every other context.
export async function newPage(browser, { bypassCSP = false, ignoreHTTPSErrors = false } = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, bypassCSP, ignoreHTTPSErrors });
  const page = await context.newPage();
  page.errors = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    // The browser's own line for a refused request: the page shows the API's message instead.
    if (/^Failed to load resource: the server responded with a status of (401|403|404|409)/.test(m.text())) return;
    page.errors.push(m.text());
  });
  page.on('pageerror', (e) => page.errors.push(String(e)));
  return page;
}

export async function logIn(page, server, user, password, project) {
  await page.goto(server.url + '/');
  await page.fill('#login-user', user);
  await page.fill('#login-password', password);
  await page.fill('#login-project', project);
  await page.press('#login-password', 'Enter');
  await page.waitForSelector('#vms-table');
}

export function screenshotDir() {
  const dir = process.env.SCREENSHOT_DIR ?? join(tmpdir(), 'corral-dashboard-screenshots');
  mkdirSync(dir, { recursive: true });
  return dir;
}

// axe-core's serious and critical violations on the page as it is now.
export async function axeViolations(page) {
  const source = readFileSync(new URL('../node_modules/axe-core/axe.min.js', import.meta.url), 'utf8');
  await page.addScriptTag({ content: source });
  const result = await page.evaluate(async () => await window.axe.run(document, {
    resultTypes: ['violations'] }));
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}
