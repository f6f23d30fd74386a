// The pacing page of a running `queuelake demo` (started by the e2e test
// `demo`, which passes):
//   QL_URL       the demo's server, http://127.0.0.1:<port>
//   QL_TOKEN     its admin token (as the demo prints it)
//   QL_CAMPAIGN  the campaign its dialer dials
//   QL_SHOTS     where the screenshot goes
//   CHROMIUM     the browser (default /usr/bin/chromium)
// Checks that the page shows the campaign inside its limit, with the
// window's rate and limit the API gives. Prints one line per check.

import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const base = process.env.QL_URL;
const token = process.env.QL_TOKEN;
const campaign = process.env.QL_CAMPAIGN;
const shots = process.env.QL_SHOTS;
await mkdir(shots, { recursive: true });

const pct = (share, digits = 1) => (share == null ? '—' : `${(share * 100).toFixed(digits)} %`);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--lang=en-GB'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, locale: 'en-GB' });
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${base}/#token=${encodeURIComponent(token)}`);
  await page.locator('#who .role').waitFor();
  await page.evaluate(() => { location.hash = '#/pacing'; });
  const card = page.locator(`[data-campaign="${campaign}"]`);
  await card.waitFor();
  const response = await fetch(`${base}/api/v1/pacing/${campaign}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(response.status, 200);
  const api = await response.json();
  const w = api.window;
  assert.ok(w.live_answered > 0, `no live answer yet: ${JSON.stringify(w)}`);
  assert.ok(w.abandon_rate <= w.target, `the API has ${campaign} over its limit: ${JSON.stringify(w)}`);
  assert.equal(await card.locator('[data-field=limit]').innerText(), pct(w.target));
  const meter = card.locator('[data-field=window] .meter');
  const kind = await meter.getAttribute('class');
  assert.ok(!kind.includes('bad'), `the page shows ${campaign} over its limit (${kind})`);
  const shown = await card.locator('[data-field=window] b').innerText();
  ok(`pacing: ${campaign} shows ${shown} of live answers abandoned against a limit of ${pct(w.target)} (API: ${pct(w.abandon_rate, 2)}, ${w.live_answered} answered)`);
  await page.screenshot({ path: join(shots, 'demo-pacing.png') });
  assert.deepEqual(errors, [], 'console errors');
} finally {
  await browser.close();
}

function ok(text) {
  console.log(`ok  ${text}`);
}
