// Staffing and schedule: a schedule's coverage (agents required by the
// staffing run against agents scheduled, per interval) and its shifts as
// a Gantt per agent, day by day. Planners make drafts from a staffing
// run, move, add, assign and remove shifts, and publish.

import { api, ApiError } from '../api.js';
import { el, num, hhmm, isoDate, dayLabel, field, select, notice, kpiTiles } from '../format.js';
import { timeChart, gantt } from '../charts.js';

export const title = 'Staffing & schedule';
export const needs = 'read';

const DAY_MS = 86_400_000;
const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** Day of the week (0 = Monday) of `instant` in the schedule starting `weekStart`. */
function dayIndex(tz, weekStart, instant) {
  return Math.round((Date.parse(isoDate(tz, instant)) - Date.parse(isoDate(tz, weekStart))) / DAY_MS);
}

/** Mondays (YYYY-MM-DD) whose week starts inside a run's intervals. */
function mondays(tz, first, last) {
  const out = [];
  for (let t = Date.parse(`${isoDate(tz, first)}T00:00:00Z`); t <= last; t += DAY_MS) {
    if (new Date(t).getUTCDay() === 1) out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

export async function render(main, { tz, can }) {
  const planner = can('plan');
  const [schedules, staffingRuns] = await Promise.all([api('/api/v1/schedules'), api('/api/v1/staffing')]);
  const state = { id: schedules[0]?.id ?? null, day: 0, selected: null, message: null };
  const head = el('div', { class: 'page-head' }, el('h1', {}, 'Staffing & schedule'));
  const controls = el('div', { class: 'controls' });
  const creator = el('div', {});
  const body = el('div', {});
  head.append(controls);
  main.append(el('section', {}, head, creator, body));
  let view = null;

  function say(kind, text) {
    state.message = text ? { kind, text } : null;
  }

  function newDraftForm() {
    if (!planner || !staffingRuns.length) return null;
    const run = { id: staffingRuns[0].run_id };
    const weekSelect = el('select', { name: 'week' });
    const fillWeeks = () => {
      const r = staffingRuns.find((s) => s.run_id === run.id);
      const weeks = mondays(tz, Date.parse(r.first_interval), Date.parse(r.last_interval));
      weekSelect.replaceChildren(...weeks.map((w) => el('option', { value: w }, `Week of ${dayLabel(tz, Date.parse(`${w}T12:00:00Z`))} (${w})`)));
    };
    fillWeeks();
    const button = el('button', { type: 'submit', class: 'primary' }, 'Build draft');
    return el('form', {
      class: 'card inline-form', dataset: { testid: 'new-schedule' },
      onsubmit: async (event) => {
        event.preventDefault();
        button.disabled = true;
        button.textContent = 'Building…';
        try {
          const draft = await api('/api/v1/schedules', { method: 'POST', body: { staffing_run: run.id, week: weekSelect.value } });
          schedules.unshift({ id: draft.id, week_start: draft.week_start, queues: draft.queues, published_versions: 0 });
          state.id = draft.id;
          state.selected = null;
          say('ok', `Draft ${draft.id} built: ${draft.totals.shifts} shifts.`);
          await load();
        } catch (error) {
          say('error', error.message);
          draw();
        } finally {
          button.disabled = false;
          button.textContent = 'Build draft';
        }
      },
    },
    el('h2', {}, 'New schedule'),
    field('Staffing run', select(staffingRuns.map((r) => [r.run_id, `${r.run_id} · ${r.queues.join(', ')}`]), run.id,
      (v) => { run.id = v; fillWeeks(); }, { name: 'staffing_run' })),
    field('Week', weekSelect), button);
  }

  async function edit(edits) {
    try {
      view = await api(`/api/v1/schedules/${encodeURIComponent(state.id)}/edits`, { method: 'POST', body: { edits } });
      say('ok', `Saved: ${edits.map((e) => e.op.replace('_', ' ')).join(', ')}.`);
    } catch (error) {
      say('error', error instanceof ApiError ? error.message : String(error));
    }
    draw();
  }

  async function publish() {
    try {
      const done = await api(`/api/v1/schedules/${encodeURIComponent(state.id)}/publish`, { method: 'POST' });
      view.published_versions = done.version;
      say('ok', `Published version ${done.version} of ${done.schedule_id}.`);
    } catch (error) {
      say('error', error.message);
    }
    draw();
  }

  function editor(shift) {
    if (!planner) return null;
    const weekStart = Date.parse(view.week_start);
    const publishButton = el('button', { type: 'button', class: 'primary', onclick: publish, dataset: { testid: 'publish' } },
      `Publish version ${view.published_versions + 1}`);
    const add = {
      day: el('select', { name: 'add_day' }, DAYS.map((d, i) => el('option', { value: i }, d))),
      start: el('input', { type: 'time', name: 'add_start', value: '09:00', step: 900 }),
      length: el('input', { type: 'number', name: 'add_length', value: 480, min: 15, step: 15 }),
      agent: el('input', { type: 'text', name: 'add_agent', placeholder: 'unassigned' }),
    };
    add.day.value = String(state.day);
    const addForm = el('form', {
      class: 'edit-form', onsubmit: (e) => {
        e.preventDefault();
        edit([{ op: 'add_shift', day: Number(add.day.value), start: add.start.value, length_min: Number(add.length.value), agent: add.agent.value || null }]);
      },
    }, el('h3', {}, 'Add a shift'),
    el('div', { class: 'row' }, field('Day', add.day), field('Start', add.start), field('Length (min)', add.length)),
    el('div', { class: 'row' }, field('Agent', add.agent), el('button', { type: 'submit' }, 'Add')));
    let shiftForm = el('p', { class: 'muted' }, 'Click a shift in the chart to move, assign or remove it.');
    if (shift) {
      const move = {
        day: el('select', { name: 'move_day' }, DAYS.map((d, i) => el('option', { value: i }, d))),
        start: el('input', { type: 'time', name: 'move_start', value: hhmm(view.tz, Date.parse(shift.start)), step: 900 }),
        agent: el('input', { type: 'text', name: 'agent', value: shift.agent || '', placeholder: 'unassigned' }),
      };
      move.day.value = String(dayIndex(view.tz, weekStart, Date.parse(shift.start)));
      shiftForm = el('form', {
        class: 'edit-form', dataset: { testid: 'shift-editor' },
        onsubmit: (e) => {
          e.preventDefault();
          edit([{ op: 'move_shift', shift: shift.no, day: Number(move.day.value), start: move.start.value }]);
        },
      },
      el('h3', {}, `Shift ${shift.no} · ${shift.agent || 'unassigned'} · ${hhmm(view.tz, Date.parse(shift.start))}–${hhmm(view.tz, Date.parse(shift.end))}`),
      el('div', { class: 'row' }, field('Day', move.day), field('Start', move.start),
        el('button', { type: 'submit', dataset: { testid: 'move' } }, 'Move')),
      el('div', { class: 'row' }, field('Agent', move.agent),
        el('button', { type: 'button', onclick: () => edit([{ op: 'assign', shift: shift.no, agent: move.agent.value || null }]) }, 'Assign')),
      el('button', { type: 'button', class: 'danger', onclick: () => { state.selected = null; edit([{ op: 'remove_shift', shift: shift.no }]); } }, 'Remove shift'));
    }
    return el('aside', { class: 'card editor' }, el('div', { class: 'editor-head' }, el('h2', {}, 'Edit draft'), publishButton), shiftForm, addForm);
  }

  function draw() {
    controls.replaceChildren(
      schedules.length ? field('Schedule', select(schedules.map((s) => [s.id, `${s.id} · ${s.queues.join(', ')}`]), state.id,
        (v) => { state.id = v; state.selected = null; say(); load(); }, { name: 'schedule' })) : '');
    creator.replaceChildren(newDraftForm() || '');
    if (!view) {
      body.replaceChildren(state.message ? notice(state.message.kind, state.message.text) : '',
        notice('info', planner ? 'No schedule yet: build a draft from a staffing run above.' : 'No schedules yet.'));
      return;
    }
    const weekStart = Date.parse(view.week_start);
    // Days as 24 h from the week's local Monday midnight (a DST week's
    // last days are an hour off; the Gantt still shows whole shifts).
    const dayStart = weekStart + state.day * DAY_MS;
    const from = dayStart;
    const to = dayStart + DAY_MS;
    const tabs = el('div', { class: 'tabs', role: 'tablist' }, DAYS.map((d, i) => el('button', {
      type: 'button', role: 'tab', class: i === state.day ? 'active' : null, 'aria-selected': i === state.day ? 'true' : 'false',
      onclick: () => { state.day = i; draw(); },
    }, `${d} ${isoDate(tz, weekStart + i * DAY_MS).slice(5)}`)));
    const coverage = view.coverage.filter((c) => {
      const t = Date.parse(c.interval_start);
      return t >= dayStart && t < to;
    });
    const width = Math.max(320, body.clientWidth || main.clientWidth || 960);
    const t = (c) => Date.parse(c.interval_start);
    const chart = timeChart({
      width, height: 240, tz, step: view.interval_s * 1000, testid: 'coverage-chart',
      title: 'Coverage per interval', yLabel: 'Agents',
      series: [
        { name: 'Scheduled on the phones', kind: 'bar', color: 'var(--c1)', points: coverage.map((c) => ({ t: t(c), v: c.scheduled })) },
        { name: 'Required (staffing run)', kind: 'step', color: 'var(--c4)', points: coverage.map((c) => ({ t: t(c), v: c.required })) },
      ],
    });
    const todays = view.shifts.filter((s) => dayIndex(tz, weekStart, Date.parse(s.start)) === state.day);
    const byAgent = new Map();
    for (const s of todays) {
      const label = s.agent || `Shift ${s.no} (open)`;
      if (!byAgent.has(label)) byAgent.set(label, []);
      byAgent.get(label).push({
        id: s.no, start: Date.parse(s.start), end: Date.parse(s.end),
        breaks: s.breaks.map((b) => ({ start: Date.parse(b.start), end: Date.parse(b.end) })),
      });
    }
    const rows = [...byAgent.entries()].sort((a, b) => a[1][0].start - b[1][0].start || a[0].localeCompare(b[0]))
      .map(([label, items]) => ({ label, items }));
    const shiftsChart = rows.length
      ? gantt({ rows, from: dayStart, to, tz, width: planner ? Math.max(320, width - 340) : width, selected: state.selected, testid: 'gantt',
        onSelect: planner ? (id) => { state.selected = id; draw(); } : null })
      : notice('info', 'No shifts on this day.');
    const totals = view.totals;
    const kpis = kpiTiles([
      ['Shifts', num(totals.shifts), 'shifts'],
      ['Paid hours', num(totals.paid_hours, 1), 'paid_hours'],
      ['Short (agent-hours)', num(totals.short_agent_hours, 1), 'short'],
      ['Surplus (agent-hours)', num(totals.surplus_agent_hours, 1), 'surplus'],
      ['Published versions', num(view.published_versions), 'published_versions'],
    ], 'schedule-totals');
    view.tz = tz;
    const selected = view.shifts.find((s) => s.no === state.selected);
    body.replaceChildren(
      el('p', { class: 'muted' }, `${view.id} · ${view.queues.join(', ')} · week of ${isoDate(tz, weekStart)} · staffing run ${view.staffing_run ?? '—'}`),
      state.message ? notice(state.message.kind, state.message.text) : '',
      kpis, tabs, el('div', { class: 'charts' }, chart),
      el('div', { class: planner ? 'split' : '' }, el('div', { class: 'gantt-wrap' }, el('h2', {}, `Shifts on ${dayLabel(tz, from)}`), shiftsChart), editor(selected)));
  }

  async function load() {
    view = state.id ? await api(`/api/v1/schedules/${encodeURIComponent(state.id)}`) : null;
    if (view) {
      const busiest = new Array(7).fill(0);
      for (const s of view.shifts) busiest[dayIndex(tz, Date.parse(view.week_start), Date.parse(s.start))] += 1;
      if (!busiest[state.day]) state.day = Math.max(0, busiest.indexOf(Math.max(...busiest)));
    }
    draw();
  }
  await load();
}
