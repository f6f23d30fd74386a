// Drives headless Chromium through every dashboard page against a running
// queuelake (started by the e2e test `dashboards`, which passes):
//   QL_URL      the server, http://127.0.0.1:<port>
//   QL_TOKENS   JSON { admin, viewer, planner, analyst, manager, sales-viewer } tokens
//   QL_DAY      a past day with calls (YYYY-MM-DD)
//   QL_SHOTS    where screenshots go
//   CHROMIUM    the browser (default /usr/bin/chromium)
// Each check compares what a page shows with what the API returns for the
// same token; any console error fails the run. Prints one line per check.

import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const base = process.env.QL_URL;
const tokens = JSON.parse(process.env.QL_TOKENS);
const day = process.env.QL_DAY;
const shots = process.env.QL_SHOTS;
await mkdir(shots, { recursive: true });

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--lang=en-GB',
  ],
});

async function call(who, method, path, body) {
  const response = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${tokens[who]}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let value = text;
  try { value = JSON.parse(text); } catch { /* CSV or text */ }
  return { status: response.status, value, text };
}
const get = async (who, path) => {
  const { status, value } = await call(who, 'GET', path);
  assert.equal(status, 200, `GET ${path} as ${who}: ${JSON.stringify(value)}`);
  return value;
};

const pct = (share, digits = 1) => (share == null ? '—' : `${(share * 100).toFixed(digits)} %`);
const num = (v, digits = 0) => (v == null ? '—' : v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));

const contexts = [];
function ok(text) {
  console.log(`ok  ${text}`);
}

/** A signed-in page for `who` (the token in the address, as the demo prints it). */
async function open(who, hash, viewport = DESKTOP) {
  const context = await browser.newContext({ viewport, acceptDownloads: true, locale: 'en-GB' });
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${base}/#token=${encodeURIComponent(tokens[who])}`);
  await page.locator('#who .role').waitFor();
  if (hash) await page.evaluate((h) => { location.hash = h; }, hash);
  contexts.push({ who, context, page, errors });
  return page;
}

/** No horizontal scrolling, then a screenshot. */
async function shoot(page, name) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(150);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `${name}: the page is ${overflow} px wider than the window`);
  await page.screenshot({ path: join(shots, `${name}.png`) });
  await page.screenshot({ path: join(shots, `${name}-full.png`), fullPage: true });
  ok(`screenshots ${name}.png and ${name}-full.png (no horizontal overflow)`);
}

const texts = (locator) => locator.allInnerTexts();

// --- Sign-in, navigation by role, and the viewer refused the SQL console.
{
  const context = await browser.newContext({ viewport: DESKTOP, locale: 'en-GB' });
  const page = await context.newPage();
  await page.goto(`${base}/`);
  await page.getByLabel('Token').fill(tokens.viewer);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#who .role').waitFor();
  const links = await texts(page.locator('#nav a'));
  assert.deepEqual(links, ['Wallboard', 'Intervals', 'Forecast', 'Staffing & schedule', 'Pacing', 'Reports']);
  ok(`viewer signs in with the form; navigation without SQL: ${links.join(', ')}`);
  await page.evaluate(() => { location.hash = '#/sql'; });
  const refused = page.getByTestId('refused');
  await refused.waitFor();
  assert.match(await refused.innerText(), /Your role \(viewer\) may not use the SQL page/);
  assert.equal(await page.locator('textarea[name=sql]').count(), 0);
  const api = await call('viewer', 'POST', '/api/v1/sql', { sql: 'SELECT 1' });
  assert.equal(api.status, 403);
  ok(`viewer: the SQL console is refused in the UI and by the API (${api.status}: ${api.value.detail})`);
  for (const [who, expected] of [['analyst', 'SQL'], ['planner', 'Staffing & schedule'], ['manager', 'Reports']]) {
    const p = await open(who);
    const names = await texts(p.locator('#nav a'));
    assert.ok(names.includes(expected), `${who}: ${names}`);
    assert.equal(names.includes('SQL'), who === 'analyst', `${who}: ${names}`);
  }
  ok('analyst sees SQL; planner and manager do not');
  await context.close();
}

// --- The pages' own helpers, as the browser loads them, on hand-worked values.
{
  const page = await open('viewer');
  const got = await page.evaluate(async () => {
    const charts = await import('/ui/charts.js');
    const format = await import('/ui/format.js');
    const intervals = await import('/ui/pages/intervals.js');
    const row = (queue, offered, answered, short, within, asa) => ({
      queue, interval_start: '2024-03-05T09:00:00Z', offered, answered, abandoned: offered - answered,
      short_abandoned: short, answered_within_sl: within, asa_s: asa, aht_s: 100, max_wait_s: 30,
    });
    const [both] = intervals.combine([row('sales', 10, 8, 1, 6, 10), row('support', 20, 19, 0, 19, 4)]);
    return {
      ticks: charts.niceTicks(0, 23, 5),
      small: charts.niceTicks(0, 0.8, 5),
      filled: charts.filled([{ t: 1800, v: 3 }], 0, 3600, 900).map((p) => p.v),
      clock: [format.clock(65), format.clock(3725), format.clock(null)],
      pct: [format.pct(256 / 288), format.pct(null)],
      num: format.num(12345.678, 1),
      both,
    };
  });
  assert.deepEqual(got.ticks, [0, 5, 10, 15, 20, 25]);
  assert.deepEqual(got.small, [0, 0.2, 0.4, 0.6, 0.8]);
  assert.deepEqual(got.filled, [0, 0, 3, 0]);
  assert.deepEqual(got.clock, ['1:05', '1:02:05', '—']);
  assert.deepEqual(got.pct, ['88.9 %', '—']);
  assert.equal(got.num, '12,345.7');
  // Two queues in one interval: 30 offered, 27 answered, 1 short abandon,
  // 25 within the threshold → SL 25 / 29; ASA (8·10 + 19·4) / 27.
  assert.equal(got.both.offered, 30);
  assert.equal(got.both.answered, 27);
  assert.ok(Math.abs(got.both.service_level - 25 / 29) < 1e-12, got.both.service_level);
  assert.ok(Math.abs(got.both.asa_s - 156 / 27) < 1e-12, got.both.asa_s);
  ok('helpers: round ticks, zero-filled intervals, clocks, percentages, queues summed per interval (SL 25/29, ASA 156/27 s)');
}

// --- A scoped viewer's wallboard shows its queue only.
{
  const page = await open('sales-viewer', '#/wallboard');
  await page.locator('[data-queue]').first().waitFor();
  await page.waitForTimeout(1200);
  const queues = await page.locator('[data-queue]').evaluateAll((n) => n.map((e) => e.dataset.queue));
  assert.deepEqual(queues, ['sales']);
  ok(`scoped viewer (queues = ["sales"]): the wallboard shows ${queues.join(', ')} only`);
}

// --- Wallboard: the API's queues, today's totals, live changes; phone width.
{
  const page = await open('viewer', '#/wallboard');
  const tiles = page.locator('[data-queue]');
  await tiles.first().waitFor();
  const before = await get('viewer', '/api/v1/live/queues');
  // The tiles are read once an event made after that answer has arrived
  // (the stream's clock at or past its clock), so they lie between the two reads.
  await page.waitForFunction((at) => {
    const shownAt = document.querySelector('[data-testid=pbx-time]')?.dataset.instant;
    return shownAt && Date.parse(shownAt) >= Date.parse(at);
  }, before.pbx_time);
  const shown = {};
  for (const tile of await tiles.all()) {
    shown[await tile.getAttribute('data-queue')] = Number((await tile.locator('[data-field=offered]').innerText()).replace(/,/g, ''));
  }
  const after = await get('viewer', '/api/v1/live/queues');
  assert.deepEqual(Object.keys(shown), before.queues.map((q) => q.queue));
  for (const q of before.queues) {
    const later = after.queues.find((a) => a.queue === q.queue);
    assert.ok(shown[q.queue] >= q.today.offered && shown[q.queue] <= later.today.offered,
      `${q.queue}: shown ${shown[q.queue]}, API ${q.today.offered}..${later.today.offered}`);
  }
  ok(`wallboard: queues ${Object.keys(shown).join(', ')}; offered today ${JSON.stringify(shown)} as the API says`);
  const target = await page.getByTestId('queues').getAttribute('data-target');
  assert.equal(Number(target), before.service_level_target);
  const board = page.getByTestId('queues');
  const firstText = await board.innerText();
  const firstClock = await page.getByTestId('pbx-time').getAttribute('data-instant');
  const started = Date.now();
  let changed = false;
  while (Date.now() - started < 20000) {
    await page.waitForTimeout(500);
    if ((await board.innerText()) !== firstText && (await page.getByTestId('pbx-time').getAttribute('data-instant')) !== firstClock) {
      changed = true;
      break;
    }
  }
  assert.ok(changed, 'the wallboard did not change within 20 s');
  assert.equal(await page.getByTestId('link').innerText(), 'live');
  ok(`wallboard changes live without a reload (after ${Date.now() - started} ms; PBX clock ${firstClock} → ${await page.getByTestId('pbx-time').getAttribute('data-instant')})`);
  await shoot(page, 'wallboard');
  const phone = await open('viewer', '#/wallboard', PHONE);
  await phone.locator('[data-queue]').first().waitFor();
  await shoot(phone, 'wallboard-phone');
}

// --- Intervals: a past day of one queue, table and totals as the API.
{
  const page = await open('viewer', `#/intervals?day=${day}`);
  await page.getByTestId('intervals-table').waitFor();
  await page.locator('select[name=queue]').selectOption('sales');
  await page.getByText(`sales · ${day}`).waitFor();
  const doc = await get('viewer', `/api/v1/intervals?day=${day}&queue=sales`);
  assert.ok(doc.intervals.length > 10, `${doc.intervals.length} intervals`);
  const rows = page.locator('[data-testid=intervals-table] tbody tr');
  assert.equal(await rows.count(), doc.intervals.length);
  const offered = (await texts(rows.locator('td:nth-child(2)'))).map((t) => Number(t.replace(/,/g, '')));
  assert.deepEqual(offered, doc.intervals.map((r) => r.offered));
  const sl = await texts(rows.locator('td:nth-child(5)'));
  assert.deepEqual(sl, doc.intervals.map((r) => pct(r.service_level)));
  const total = doc.intervals.reduce((s, r) => s + r.offered, 0);
  assert.equal(await page.locator('[data-testid=totals] [data-field=offered]').innerText(), num(total));
  const bars = await page.locator('[data-testid=volume-chart] g.bars rect').count();
  assert.equal(bars, doc.intervals.length);
  ok(`intervals: sales on ${day}, ${doc.intervals.length} intervals, ${total} offered; table, totals and ${bars} bars as the API`);
  await shoot(page, 'intervals');
}

// --- Forecast: the newest run, its chart and accuracy per queue.
{
  const runs = await get('viewer', '/api/v1/forecasts');
  const run = runs[0].run_id;
  const page = await open('viewer', '#/forecast');
  await page.getByTestId('accuracy-table').waitFor();
  const doc = await get('viewer', `/api/v1/forecasts/${run}`);
  const accuracy = await get('viewer', `/api/v1/forecasts/${run}/accuracy`);
  const rows = page.locator('[data-testid=accuracy-table] tbody tr');
  assert.deepEqual(await texts(rows.locator('td:nth-child(1)')), accuracy.queues.map((q) => q.queue));
  assert.deepEqual(await texts(rows.locator('td:nth-child(2)')), accuracy.queues.map((q) => q.model));
  assert.deepEqual(await texts(rows.locator('td:nth-child(4)')), accuracy.queues.map((q) => pct(q.backtest?.wape)));
  const queue = doc.queues[0];
  const firstDay = await page.locator('select[name=day]').inputValue();
  const dayPoints = queue.intervals.filter((i) => i.interval_start.startsWith(firstDay)).length;
  const line = page.locator('[data-testid=forecast-chart] path[data-series=Forecast]');
  assert.equal(Number(await line.getAttribute('data-points')), dayPoints);
  const total = queue.intervals.filter((i) => i.interval_start.startsWith(firstDay)).reduce((s, i) => s + i.volume, 0);
  assert.equal(await page.locator('[data-field=forecast_total]').innerText(), num(total, 1));
  assert.ok(await page.locator('[data-testid=forecast-chart] g.band polygon').count() >= 1);
  ok(`forecast: run ${run}, ${queue.queue} on ${firstDay}: ${dayPoints} intervals, ${num(total, 1)} calls with a 90 % band; accuracy of ${accuracy.queues.length} queues as the API`);
  await shoot(page, 'forecast');
}

// --- Staffing and schedule: a planner builds a draft, moves a shift, publishes.
{
  const page = await open('planner', '#/staffing');
  await page.getByTestId('new-schedule').waitFor();
  await page.getByRole('button', { name: 'Build draft' }).click();
  const gantt = page.getByTestId('gantt');
  await gantt.waitFor({ timeout: 120000 });
  const schedules = await get('planner', '/api/v1/schedules');
  const id = schedules[0].id;
  const draft = await get('planner', `/api/v1/schedules/${id}`);
  const shift = await gantt.locator('g[data-shift]').first();
  const no = Number(await shift.getAttribute('data-shift'));
  const original = draft.shifts.find((s) => s.no === no);
  await shift.click();
  const editor = page.getByTestId('shift-editor');
  await editor.waitFor();
  const start = await editor.locator('input[name=move_start]').inputValue();
  const [h, m] = start.split(':').map(Number);
  const later = `${String((h + 1) % 24).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
  await editor.locator('input[name=move_start]').fill(later);
  await editor.getByTestId('move').click();
  await page.getByText('Saved: move shift').waitFor();
  const moved = (await get('planner', `/api/v1/schedules/${id}`)).shifts.find((s) => s.no === no);
  assert.equal(Date.parse(moved.start) - Date.parse(original.start), 3600_000, `${original.start} → ${moved.start}`);
  ok(`planner: draft ${id} built in the UI; shift ${no} moved ${start} → ${later} (API: ${original.start} → ${moved.start})`);
  const coverage = draft.coverage.length;
  assert.ok(coverage > 0);
  await page.getByTestId('publish').click();
  await page.getByText(`Published version 1 of ${id}`).waitFor();
  const published = await get('planner', `/api/v1/schedules/${id}`);
  assert.equal(published.published_versions, 1);
  const lake = await call('admin', 'POST', '/api/v1/sql', { sql: `SELECT COUNT(*) AS n FROM schedule_shifts WHERE schedule_id = '${id}' AND version = 1 AND activity = 'shift'` });
  assert.equal(lake.status, 200, lake.text);
  assert.equal(lake.value.rows[0][0], published.shifts.length);
  assert.equal(await page.locator('[data-field=published_versions]').innerText(), '1');
  ok(`planner: published version 1; the lake's schedule_shifts holds its ${published.shifts.length} shifts`);
  const bars = await page.locator('[data-testid=coverage-chart] g.bars rect').count();
  assert.ok(bars > 0);
  await shoot(page, 'staffing');
  const viewer = await open('viewer', '#/staffing');
  await viewer.getByTestId('gantt').waitFor();
  assert.equal(await viewer.getByText('Edit draft').count(), 0);
  assert.equal(await viewer.getByTestId('new-schedule').count(), 0);
  ok('viewer: the schedule without edit or build controls');
}

// --- Pacing: every campaign's decision with its window against the limit.
{
  const page = await open('viewer', '#/pacing');
  await page.locator('[data-campaign]').first().waitFor();
  const api = await get('viewer', '/api/v1/pacing');
  const names = await page.locator('[data-campaign]').evaluateAll((n) => n.map((e) => e.dataset.campaign));
  assert.deepEqual(names, api.map((c) => c.campaign));
  for (const c of api) {
    const card = page.locator(`[data-campaign="${c.campaign}"]`);
    assert.equal(await card.locator('[data-field=limit]').innerText(), pct(c.window.target));
  }
  ok(`pacing: campaigns ${names.join(', ')} with limits ${api.map((c) => pct(c.window.target)).join(', ')} as the API`);
  await shoot(page, 'pacing');
}

// --- Reports: a manager runs one and downloads its CSV.
{
  const page = await open('manager', '#/reports');
  await page.getByTestId('reports-table').waitFor();
  const list = await get('manager', '/api/v1/reports');
  assert.equal(await page.locator('[data-testid=reports-table] tbody tr').count(), list.length);
  await page.locator('select[name=report]').selectOption('daily_queue_summary');
  await page.locator('select[name=period]').selectOption('custom');
  await page.locator('input[name=from]').fill(day);
  await page.locator('input[name=to]').fill(day);
  await page.locator('input[name=format_csv]').check();
  await page.getByRole('button', { name: 'Run now' }).click();
  await page.getByText(/Queued job/).waitFor();
  const csvButton = page.locator('[data-testid=jobs-table] button[data-file$=".csv"]').first();
  await csvButton.waitFor({ timeout: 60000 });
  const file = await csvButton.getAttribute('data-file');
  const [download] = await Promise.all([page.waitForEvent('download'), csvButton.click()]);
  const text = await readFile(await download.path(), 'utf8');
  const jobs = await get('manager', '/api/v1/reports/jobs');
  const served = await call('manager', 'GET', `/api/v1/reports/jobs/${jobs[0].id}/files/${file}`);
  assert.equal(text, served.text);
  assert.match(text.split('\n')[0], /offered/);
  ok(`reports: ${list.length} listed; daily_queue_summary for ${day} run from the UI, ${file} downloaded (${text.length} bytes, as the API serves it)`);
  await shoot(page, 'reports');
  const viewer = await open('viewer', '#/reports');
  await viewer.getByTestId('reports-table').waitFor();
  assert.equal(await viewer.getByRole('button', { name: 'Run now' }).count(), 0);
  ok('viewer: reports listed without run or download controls');
}

// --- SQL console: an analyst runs a query and downloads it as CSV.
{
  const page = await open('analyst', '#/sql');
  // The history up to the past day (the live floor keeps adding calls).
  const sql = `SELECT queue, COUNT(*) AS calls, ROUND(AVG(wait_s), 3) AS mean_wait_s FROM calls WHERE enter_ts < TIMESTAMP '${day}T00:00:00Z' + INTERVAL '1 day' GROUP BY queue ORDER BY queue`;
  await page.locator('textarea[name=sql]').fill(sql);
  await page.getByRole('button', { name: 'Run' }).click();
  await page.getByTestId('sql-table').waitFor();
  const api = await call('analyst', 'POST', '/api/v1/sql', { sql });
  assert.equal(api.status, 200);
  const cells = await page.locator('[data-testid=sql-table] tbody tr').evaluateAll((rows) =>
    rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.innerText)));
  assert.deepEqual(cells, api.value.rows.map((r) => r.map(String)));
  const headers = await page.locator('[data-testid=sql-table] thead th').evaluateAll((t) => t.map((th) => th.firstChild.textContent));
  assert.deepEqual(headers, ['queue', 'calls', 'mean_wait_s']);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('csv').click()]);
  assert.equal(download.suggestedFilename(), 'query.csv');
  const csv = await readFile(await download.path(), 'utf8');
  const apiCsv = await call('analyst', 'POST', '/api/v1/sql', { sql, format: 'csv' });
  assert.equal(csv, apiCsv.text);
  ok(`analyst: SQL result ${JSON.stringify(cells)} as the API; CSV downloaded (${csv.split('\n').length - 1} lines) equals the API's`);
  await shoot(page, 'sql');
  await page.locator('textarea[name=sql]').fill('SELEC queue FROM calls');
  await page.getByRole('button', { name: 'Run' }).click();
  await page.getByRole('alert').waitFor();
  ok(`analyst: bad SQL shows the API's error: ${await page.getByRole('alert').innerText()}`);
  // The failed query's 400 is the one console line a browser logs for it.
  const last = contexts[contexts.length - 1];
  last.errors = last.errors.filter((e) => !/status of 400/.test(e));
}

for (const { who, page, errors } of contexts) {
  assert.deepEqual(errors, [], `console errors for ${who} on ${page.url()}`);
}
ok(`no console errors on ${contexts.length} pages`);
await browser.close();
