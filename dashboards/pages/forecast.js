// Forecast: a run's forecast for a queue and day, with its 90 %
// prediction band and the actual calls where the day has happened, and
// the run's accuracy per queue (its backtest, and against actuals).

import { api } from '../api.js';
import { el, pct, num, isoDate, dayLabel, dateTime, field, select, table, notice, kpiTiles } from '../format.js';
import { timeChart, filled } from '../charts.js';

export const title = 'Forecast';
export const needs = 'read';

export async function render(main, { tz }) {
  const runs = await api('/api/v1/forecasts');
  const head = el('div', { class: 'page-head' }, el('h1', {}, 'Forecast'));
  main.append(el('section', {}, head));
  if (!runs.length) {
    main.append(notice('info', 'No forecast runs yet. A planner makes one (POST /api/v1/forecasts, or queuelake forecast).'));
    return;
  }
  const state = { run: runs[0].run_id, queue: null, day: null };
  const controls = el('div', { class: 'controls' });
  const body = el('div', {});
  head.append(controls);
  main.append(body);
  let doc = null;
  let accuracy = null;

  async function loadRun() {
    body.replaceChildren(el('p', { class: 'muted' }, 'Loading…'));
    [doc, accuracy] = await Promise.all([
      api(`/api/v1/forecasts/${encodeURIComponent(state.run)}`),
      api(`/api/v1/forecasts/${encodeURIComponent(state.run)}/accuracy`),
    ]);
    if (!doc.queues.some((q) => q.queue === state.queue)) state.queue = doc.queues[0]?.queue ?? null;
    state.day = null;
    await draw();
  }

  async function draw() {
    const queue = doc.queues.find((q) => q.queue === state.queue);
    const days = [...new Set((queue?.intervals ?? []).map((i) => isoDate(tz, Date.parse(i.interval_start))))];
    if (!days.includes(state.day)) state.day = days[0] ?? null;
    controls.replaceChildren(
      field('Run', select(runs.map((r) => [r.run_id, `${r.run_id} (${dateTime(tz, Date.parse(r.created_at))})`]), state.run,
        (v) => { state.run = v; loadRun(); }, { name: 'run' })),
      field('Queue', select(doc.queues.map((q) => q.queue), state.queue, (v) => { state.queue = v; draw(); }, { name: 'queue' })),
      field('Day', select(days.map((d) => [d, `${dayLabel(tz, Date.parse(`${d}T12:00:00Z`))} (${d})`]), state.day,
        (v) => { state.day = v; draw(); }, { name: 'day' })));
    if (!queue) {
      body.replaceChildren(notice('info', 'This run has no queue the token sees.'));
      return;
    }
    const intervals = queue.intervals.filter((i) => isoDate(tz, Date.parse(i.interval_start)) === state.day);
    let actual = [];
    let bounds = {};
    try {
      const day = await api(`/api/v1/intervals?${new URLSearchParams({ day: state.day, queue: state.queue })}`);
      actual = day.intervals;
      bounds = { from: Date.parse(day.start), to: Date.parse(day.end) };
    } catch (error) {
      body.replaceChildren(notice('error', error.message));
      return;
    }
    const width = Math.max(320, body.clientWidth || main.clientWidth || 960);
    const t = (r) => Date.parse(r.interval_start);
    const chart = timeChart({
      width, height: 300, tz, step: queue.interval_s * 1000, testid: 'forecast-chart', ...bounds,
      title: `${queue.queue}: calls per interval, forecast and actual`, yLabel: 'Calls',
      bands: [{ name: '90 % prediction interval', color: 'var(--band)', points: intervals.map((i) => ({ t: t(i), lo: i.volume_lo, hi: i.volume_hi })) }],
      series: [
        { name: 'Forecast', kind: 'line', color: 'var(--c1)', points: intervals.map((i) => ({ t: t(i), v: i.volume })) },
        // Actual calls up to the last interval with any (quiet intervals count 0).
        { name: 'Actual', kind: 'line', color: 'var(--c3)', dash: '5 3', points: actual.length && bounds.from
          ? filled(actual.map((r) => ({ t: t(r), v: r.offered })), bounds.from, t(actual[actual.length - 1]) + queue.interval_s * 1000, queue.interval_s * 1000)
          : [] },
      ],
    });
    const dayTotal = intervals.reduce((s, i) => s + i.volume, 0);
    const actualTotal = actual.reduce((s, r) => s + r.offered, 0);
    const summary = kpiTiles([
      ['Model', queue.model, 'model', 'text'],
      ['Forecast calls (day)', num(dayTotal, 1), 'forecast_total'],
      ['Actual calls (day so far)', num(actualTotal), 'actual_total'],
      ['Backtest WAPE', pct(queue.backtest?.wape)],
      ['Backtest MASE', num(queue.backtest?.mase, 2)],
    ], 'forecast-totals');
    const accuracyTable = table(
      [{ label: 'Queue' }, { label: 'Model' }, { label: 'Backtest MASE', num: true }, { label: 'Backtest WAPE', num: true },
        { label: 'Intervals compared', num: true }, { label: 'MAE (calls)', num: true }, { label: 'WAPE', num: true },
        { label: 'Bias', num: true }, { label: 'Inside 90 % band', num: true }],
      accuracy.queues.map((a) => [a.queue, a.model, num(a.backtest?.mase, 2), pct(a.backtest?.wape), num(a.intervals_compared),
        num(a.mae, 2), pct(a.wape), pct(a.bias), pct(a.interval_coverage)]),
      { testid: 'accuracy-table', caption: `Accuracy of ${doc.run_id} (made ${dateTime(tz, Date.parse(doc.created_at))})` },
    );
    body.replaceChildren(summary, el('div', { class: 'charts' }, chart), accuracyTable);
  }
  await loadRun();
}
