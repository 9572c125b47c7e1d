// The dashboard's bench (issue 16): in headless Chromium against a real `corral server` (sim
// driver, zero phase times, the build CORRAL_BIN names; `make bench` runs the release one).
//   1. The VMs page with N VMs (default 10,000): time from navigation to the table showing all
//      N (their count, and the first rows drawn), median of 3 loads; beside it the floor, the
//      time the same browser takes just to fetch the same N VMs from the API.
//   2. Keeping up: while the page shows the VMs, a driver pauses and unpauses running VMs at
//      RATE state changes a second (default 1,000) for DRIVE_SECONDS (default 10); the page reports
//      how many events it got and, for each VM it read back, the time from the commit to the
//      read (window.corralStats). At the end every row must say what the API says.
// Figures are printed, never asserted: `node web/bench/dashboard.bench.mjs`.
import { performance } from 'node:perf_hooks';
import { api, launchBrowser, logIn, newPage, startServer } from '../tests/harness.mjs';

const N = Number(process.env.VMS ?? 10000);
const RATE = Number(process.env.RATE ?? 1000);
const SECONDS = Number(process.env.DRIVE_SECONDS ?? 10);
const HOSTS = Math.ceil(N / 60) + 1;

const pct = (xs, p) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const median = (xs) => pct(xs, 50);

const server = await startServer({ profile: 'zero', extra: ['--sim-hosts', String(HOSTS)] });
const browser = await launchBrowser();
try {
  // N running VMs, created 64 at a time.
  let t0 = performance.now();
  for (let i = 0; i < N; i += 64) {
    await Promise.all(Array.from({ length: Math.min(64, N - i) }, (_, k) =>
      api(server, 'POST', '/v1/vms', { name: `vm-${i + k}`, image: 'bench', vcpus: 1, memory_mib: 16 })));
  }
  for (;;) {
    const page = await api(server, 'GET', '/v1/vms?state=RUNNING&limit=1&offset=' + (N - 1));
    if (page.body.vms.length === 1) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  console.log(`setup: ${N} running VMs on ${HOSTS} sim hosts in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const page = await newPage(browser);
  await logIn(page, server, 'admin', (await import('../tests/harness.mjs')).kAdminPassword, 'admin');

  // 1. Render.
  const loads = [];
  const fetches = [];
  for (let run = 0; run < 3; ++run) {
    // A new document each time (the query differs), so performance.now() counts from its start.
    await page.goto(`${server.url}/?load=${run}#/vms`);
    await page.waitForFunction((n) => document.querySelector('.count')?.textContent?.startsWith(`${n} of ${n}`) &&
                                      document.querySelectorAll('#vms-table tbody tr[data-vm]').length > 10, N,
                               { timeout: 120000, polling: 'raf' });
    loads.push(await page.evaluate(() => performance.now()));  // since this document's navigation
    // The floor: the same requests the page makes (the first page, then four at a time by
    // offset), with nothing drawn.
    fetches.push(await page.evaluate(async (token) => {
      const start = performance.now();
      const get = async (q) => (await fetch(`/v1/vms?limit=1000&all_projects=true${q}`,
                                            { headers: { Authorization: `Bearer ${token}` } })).json();
      const first = await get('');
      for (let offset = 1000, more = !!first.next_marker; more; offset += 4000) {
        const pages = await Promise.all([0, 1, 2, 3].map((k) => get(`&offset=${offset + k * 1000}`)));
        more = pages.every((p) => p.vms.length === 1000 && !!p.next_marker);
      }
      return performance.now() - start;
    }, JSON.parse(await page.evaluate(() => sessionStorage.getItem('corral.session'))).token));
  }
  console.log(`render: the VMs page with ${N} VMs shown in ${median(loads).toFixed(0)} ms (median of 3 loads: ` +
              `${loads.map((x) => x.toFixed(0)).join(', ')}; target <= 1000 ms); floor: fetching the same ` +
              `${N} VMs in the page ${median(fetches).toFixed(0)} ms; ratio ${(median(loads) / median(fetches)).toFixed(2)}`);

  // 2. Keep up with RATE state changes a second. The driver alone first (no page open): what
  // this server takes on this machine, the floor the page's figure stands beside.
  const ids = Array.from({ length: N }, (_, i) => i + 1);
  const paused = new Set();
  let cursor = 0;
  const drive = async () => {
    let sent = 0;
    let refused = 0;
    const start = performance.now();
    const inFlight = new Set();
    while (performance.now() - start < SECONDS * 1000) {
      const due = Math.floor(((performance.now() - start) / 1000) * RATE / 2);  // 2 changes each
      while (sent < due && inFlight.size < 256) {
        const id = ids[cursor++ % N];
        const action = paused.has(id) ? 'unpause' : 'pause';
        if (action === 'pause') paused.add(id); else paused.delete(id);
        const p = api(server, 'POST', `/v1/vms/${id}/actions`, { action })
          .then((r) => { if (r.status !== 202) ++refused; })
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
        ++sent;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(inFlight);
    return { sent, refused, seconds: (performance.now() - start) / 1000 };
  };
  await page.goto('about:blank');
  const alone = await drive();
  console.log(`keep up, the floor: with no page open the driver got ${alone.sent} actions through ` +
              `(${(alone.sent / alone.seconds).toFixed(0)}/s, ${(2 * alone.sent / alone.seconds).toFixed(0)} state changes/s; ` +
              `${alone.refused} refused) in ${alone.seconds.toFixed(1)} s`);
  await page.goto(`${server.url}/?drive#/vms`);
  await page.waitForFunction((n) => document.querySelector('.count')?.textContent?.startsWith(`${n} of ${n}`), N,
                             { timeout: 120000 });
  await page.evaluate(() => { const s = window.corralStats; s.events = 0; s.reads = 0; s.lagMs.length = 0; });
  const withPage = await drive();
  const { sent, refused } = withPage;
  const driveS = withPage.seconds;
  // Wait until the page settles: every row the same as the API says.
  const settleStart = performance.now();
  let mismatched = -1;
  while (performance.now() - settleStart < 30000) {
    const truth = new Map();
    let marker = 0;
    for (;;) {
      const r = await api(server, 'GET', `/v1/vms?limit=1000&views=none&marker=${marker}`);
      for (const vm of r.body.vms) truth.set(vm.id, vm.state);
      if (!r.body.next_marker) break;
      marker = r.body.next_marker;
    }
    mismatched = await page.evaluate((t) => {
      const store = window.corralStore;
      let bad = 0;
      for (const [id, state] of t) if (store.vms.get(id)?.state !== state) ++bad;
      return bad;
    }, [...truth]);
    if (mismatched === 0) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const s = await page.evaluate(() => ({ events: window.corralStats.events, reads: window.corralStats.reads,
                                         lag: window.corralStats.lagMs.slice() }));
  console.log(`keep up: with the page open ${sent} actions (${(sent / driveS).toFixed(0)}/s, ${refused} refused) in ${driveS.toFixed(1)} s; ` +
              `the page got ${s.events} events (${(s.events / driveS).toFixed(0)}/s) and read back ${s.reads} VMs; ` +
              `commit-to-read lag p50 ${median(s.lag)} ms, p99 ${pct(s.lag, 99)} ms, max ${Math.max(...s.lag)} ms; ` +
              `rows differing from the API at the end: ${mismatched}`);
} finally {
  await browser.close();
  await server.stop();
}
