// Intervals: one day's KPIs per interval for a queue (or all queues
// summed), as charts and a table, from GET /api/v1/intervals.

import { api } from '../api.js';
import { el, pct, num, secs, hhmm, isoDate, field, select, table, notice, kpiTiles } from '../format.js';
import { timeChart, filled } from '../charts.js';

export const title = 'Intervals';
export const needs = 'read';

const ALL = '';

/** Rows of several queues summed per interval (SL and ASA recomputed). */
export function combine(rows) {
  const by = new Map();
  for (const r of rows) {
    const c = by.get(r.interval_start) || {
      interval_start: r.interval_start, offered: 0, answered: 0, abandoned: 0,
      short_abandoned: 0, answered_within_sl: 0, wait_sum: 0, handle_sum: 0, max_wait_s: null,
    };
    c.offered += r.offered;
    c.answered += r.answered;
    c.abandoned += r.abandoned;
    c.short_abandoned += r.short_abandoned;
    c.answered_within_sl += r.answered_within_sl;
    c.wait_sum += (r.asa_s ?? 0) * r.answered;
    c.handle_sum += (r.aht_s ?? 0) * r.answered;
    c.max_wait_s = Math.max(c.max_wait_s ?? 0, r.max_wait_s ?? 0);
    by.set(r.interval_start, c);
  }
  return [...by.values()]
    .sort((a, b) => a.interval_start.localeCompare(b.interval_start))
    .map((c) => ({
      ...c,
      service_level: c.offered - c.short_abandoned > 0 ? c.answered_within_sl / (c.offered - c.short_abandoned) : null,
      asa_s: c.answered ? c.wait_sum / c.answered : null,
      aht_s: c.answered ? c.handle_sum / c.answered : null,
    }));
}

export async function render(main, { tz }) {
  const live = await api('/api/v1/live/queues');
  const state = {
    day: new URLSearchParams(location.hash.split('?')[1] || '').get('day') || isoDate(tz, Date.parse(live.pbx_time)),
    queue: ALL,
  };
  const queues = live.queues.map((q) => q.queue);
  const body = el('div', {});
  const dayInput = el('input', { type: 'date', value: state.day, name: 'day', onchange: (e) => { state.day = e.target.value; load(); } });
  const controls = el('div', { class: 'controls' },
    field('Day', dayInput),
    field('Queue', select([[ALL, 'All queues'], ...queues], state.queue, (v) => { state.queue = v; load(); }, { name: 'queue' })));
  main.append(el('section', {},
    el('div', { class: 'page-head' }, el('h1', {}, 'Intervals'), controls), body));

  async function load() {
    body.replaceChildren(el('p', { class: 'muted' }, 'Loading…'));
    const query = new URLSearchParams({ day: state.day });
    if (state.queue) query.set('queue', state.queue);
    let doc;
    try {
      doc = await api(`/api/v1/intervals?${query}`);
    } catch (error) {
      body.replaceChildren(notice('error', error.message));
      return;
    }
    const rows = state.queue ? doc.intervals : combine(doc.intervals);
    const step = doc.interval_s * 1000;
    const width = Math.max(320, body.clientWidth || main.clientWidth || 960);
    const t = (r) => Date.parse(r.interval_start);
    const totals = combine(rows.map((r) => ({ ...r, interval_start: 'day' })))[0];
    const kpis = kpiTiles([
      ['Offered', num(totals?.offered ?? 0), 'offered'],
      ['Answered', num(totals?.answered ?? 0), 'answered'],
      ['Abandoned', num(totals?.abandoned ?? 0), 'abandoned'],
      ['Service level', pct(totals?.service_level), 'service_level'],
      ['ASA', secs(totals?.asa_s), 'asa'],
      ['AHT', secs(totals?.aht_s), 'aht'],
    ], 'totals');
    // The whole local day; intervals without calls count 0.
    const from = Date.parse(doc.start);
    const to = Date.parse(doc.end);
    const counts = (key) => filled(rows.map((r) => ({ t: t(r), v: r[key] })), from, to, step);
    const volume = timeChart({
      width, tz, step, from, to, title: 'Calls per interval', yLabel: 'Calls', testid: 'volume-chart',
      series: [
        { name: 'Offered', kind: 'bar', color: 'var(--c1)', points: rows.map((r) => ({ t: t(r), v: r.offered })) },
        { name: 'Answered', kind: 'line', color: 'var(--c2)', points: counts('answered') },
        { name: 'Abandoned', kind: 'line', color: 'var(--c4)', points: counts('abandoned') },
      ],
    });
    const service = timeChart({
      width, tz, step, from, to, title: 'Service level per interval', yLabel: 'Service level (%)', yMax: 1,
      yFormat: (v) => `${Math.round(v * 100)}`, testid: 'sl-chart',
      series: [{ name: 'Service level', kind: 'line', color: 'var(--c1)', points: rows.map((r) => ({ t: t(r), v: r.service_level })) }],
      refs: live.service_level_target != null ? [{ name: `Target ${pct(live.service_level_target, 0)}`, value: live.service_level_target, color: 'var(--good)' }] : [],
    });
    const grid = table(
      [{ label: `Interval (${tz})` }, { label: 'Offered', num: true }, { label: 'Answered', num: true },
        { label: 'Abandoned', num: true }, { label: 'Service level', num: true }, { label: 'ASA', num: true },
        { label: 'AHT', num: true }, { label: 'Longest wait', num: true }],
      rows.map((r) => [hhmm(tz, t(r)), num(r.offered), num(r.answered), num(r.abandoned), pct(r.service_level),
        secs(r.asa_s), secs(r.aht_s), secs(r.max_wait_s)]),
      { testid: 'intervals-table', caption: `${state.queue || 'All queues'} · ${doc.day} · ${doc.interval_s / 60}-minute intervals` },
    );
    body.replaceChildren(kpis,
      rows.length ? el('div', { class: 'charts' }, volume, service) : notice('info', `No calls on ${doc.day}.`),
      rows.length ? grid : '');
  }
  await load();
}
