// Charts drawn as SVG by the pages' own code (no library): a time chart
// (bars, lines, steps and bands over intervals, reference lines) and a
// shift Gantt. Axes carry labels with units; times are on the contact
// center's clock.

import { el, hhmm, dayLabel } from './format.js';

const NS = 'http://www.w3.org/2000/svg';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value != null) node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child == null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Points every `step` from `from` to `to`, 0 where `points` has none (counts). */
export function filled(points, from, to, step) {
  const by = new Map(points.map((p) => [p.t, p.v]));
  const out = [];
  for (let t = from; t < to; t += step) out.push({ t, v: by.get(t) ?? 0 });
  return out;
}

/** Round tick values covering [min, max], about `count` of them. */
export function niceTicks(min, max, count = 5) {
  if (!(max > min)) max = min + 1;
  const raw = (max - min) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks = [];
  for (let v = Math.floor(min / step) * step; v <= max + step * 1e-9; v += step) {
    ticks.push(Number(v.toFixed(10)));
  }
  if (ticks[ticks.length - 1] < max) ticks.push(ticks[ticks.length - 1] + step);
  return ticks;
}

const TIME_STEPS = [15, 30, 60, 120, 180, 360, 720, 1440].map((m) => m * MINUTE);

/** Tick instants for [from, to] on `width` pixels (at least 64 px apart). */
function timeTicks(from, to, width) {
  const room = Math.max(2, Math.floor(width / 64));
  const step = TIME_STEPS.find((s) => (to - from) / s <= room) ?? 1440 * MINUTE * Math.ceil((to - from) / (room * 1440 * MINUTE));
  const ticks = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) ticks.push(t);
  return { ticks, step };
}

function legend(entries) {
  return el('div', { class: 'legend' },
    entries.map((e) => el('span', { class: 'key' },
      el('i', { class: `swatch ${e.kind || 'line'}`, style: `--c:${e.color}` }), e.name)));
}

/**
 * A chart over time.
 * - `series`: `{ name, kind: 'bar'|'line'|'step', color, points: [{ t, v }], dash }`
 *   (t: interval start, ms; lines are drawn at interval centres).
 * - `bands`: `{ name, color, points: [{ t, lo, hi }] }` (prediction intervals).
 * - `refs`: `{ name, value, color }` horizontal lines (targets, limits).
 * - `step`: interval length, ms; `yLabel`: the y axis with its unit;
 *   `yFormat`: tick text; `tz`: the clock of the x axis.
 */
export function timeChart({
  width = 960, height = 260, tz, step = 15 * MINUTE, series = [], bands = [], refs = [],
  yLabel, yFormat = (v) => String(v), yMin = 0, yMax, title, testid, from: fixedFrom, to: fixedTo,
}) {
  const margin = { left: 64, right: 18, top: 14, bottom: 46 };
  const plotW = Math.max(120, width - margin.left - margin.right);
  const plotH = height - margin.top - margin.bottom;
  const times = [
    ...series.flatMap((s) => s.points.map((p) => p.t)),
    ...bands.flatMap((b) => b.points.map((p) => p.t)),
  ];
  const values = [
    ...series.flatMap((s) => s.points.map((p) => p.v)),
    ...bands.flatMap((b) => b.points.map((p) => p.hi)),
    ...refs.map((r) => r.value),
  ].filter(Number.isFinite);
  const figure = el('figure', { class: 'chart', dataset: { testid: testid || null } });
  if (title) figure.append(el('figcaption', {}, title));
  if (!times.length) {
    figure.append(el('p', { class: 'muted empty' }, 'No data for this selection.'));
    return figure;
  }
  const from = fixedFrom ?? Math.min(...times);
  const to = fixedTo ?? Math.max(...times) + step;
  const top = Math.max(yMax ?? -Infinity, ...values, yMin + 1e-9);
  const yTicks = niceTicks(yMin, top, 5);
  const yTop = yTicks[yTicks.length - 1];
  const x = (t) => margin.left + ((t - from) / (to - from)) * plotW;
  const y = (v) => margin.top + plotH - ((v - yMin) / (yTop - yMin)) * plotH;
  const root = svg('svg', {
    viewBox: `0 0 ${width} ${height}`, width, height, role: 'img',
    'aria-label': `${title || yLabel} chart`, class: 'chart-svg',
  });
  // Grid and y axis.
  for (const v of yTicks) {
    root.append(svg('line', { x1: margin.left, x2: margin.left + plotW, y1: y(v), y2: y(v), class: 'grid' }));
    root.append(svg('text', { x: margin.left - 8, y: y(v) + 4, class: 'tick', 'text-anchor': 'end' }, yFormat(v)));
  }
  root.append(svg('text', {
    class: 'axis-label', 'text-anchor': 'middle',
    transform: `translate(14 ${margin.top + plotH / 2}) rotate(-90)`,
  }, yLabel));
  // x axis: hours, or days on long spans.
  const { ticks, step: tickStep } = timeTicks(from, to, plotW);
  for (const t of ticks) {
    root.append(svg('line', { x1: x(t), x2: x(t), y1: margin.top + plotH, y2: margin.top + plotH + 5, class: 'axis' }));
    const text = tickStep >= 1440 * MINUTE ? dayLabel(tz, t) : hhmm(tz, t);
    root.append(svg('text', { x: x(t), y: margin.top + plotH + 19, class: 'tick', 'text-anchor': 'middle' }, text));
  }
  root.append(svg('line', { x1: margin.left, x2: margin.left + plotW, y1: margin.top + plotH, y2: margin.top + plotH, class: 'axis' }));
  root.append(svg('text', {
    x: margin.left + plotW / 2, y: height - 6, class: 'axis-label', 'text-anchor': 'middle',
  }, `Time (${tz})`));
  // Bands, bars, lines, references.
  for (const band of bands) {
    const pts = band.points.filter((p) => Number.isFinite(p.lo) && Number.isFinite(p.hi));
    const runs = [];
    pts.forEach((p, i) => {
      if (i > 0 && p.t - pts[i - 1].t <= step * 1.5) runs[runs.length - 1].push(p);
      else runs.push([p]);
    });
    const g = svg('g', { class: 'band', fill: band.color, 'data-series': band.name });
    for (const run of runs) {
      const upper = run.map((p) => `${x(p.t + step / 2)},${y(p.hi)}`);
      const lower = run.slice().reverse().map((p) => `${x(p.t + step / 2)},${y(p.lo)}`);
      g.append(svg('polygon', { points: [...upper, ...lower].join(' ') }));
    }
    if (runs.length) root.append(g);
  }
  const bars = series.filter((s) => s.kind === 'bar');
  bars.forEach((s, i) => {
    const slot = (x(from + step) - x(from)) / bars.length;
    const g = svg('g', { class: 'bars', fill: s.color, 'data-series': s.name, 'data-points': s.points.length });
    for (const p of s.points) {
      if (!Number.isFinite(p.v)) continue;
      const left = x(p.t) + i * slot + 0.5;
      g.append(svg('rect', {
        x: left, y: y(p.v), width: Math.max(1, slot - 1), height: Math.max(0, y(yMin) - y(p.v)),
      }, svg('title', {}, `${hhmm(tz, p.t)} ${s.name}: ${yFormat(p.v)}`)));
    }
    root.append(g);
  });
  for (const s of series.filter((s) => s.kind !== 'bar')) {
    const pts = s.points.filter((p) => Number.isFinite(p.v));
    // A line breaks where intervals are missing or have no value.
    const joined = (p, i) => i > 0 && p.t - pts[i - 1].t <= step * 1.5;
    let d = '';
    if (s.kind === 'step') {
      pts.forEach((p, i) => {
        d += `${joined(p, i) ? 'L' : 'M'}${x(p.t)},${y(p.v)} L${x(p.t + step)},${y(p.v)} `;
      });
    } else {
      d = pts.map((p, i) => `${joined(p, i) ? 'L' : 'M'}${x(p.t + step / 2)},${y(p.v)}`).join(' ');
    }
    root.append(svg('path', {
      d, class: 'series', stroke: s.color, 'stroke-dasharray': s.dash || null,
      'data-series': s.name, 'data-points': pts.length,
    }));
    if (s.kind !== 'step' && pts.length <= 120) {
      for (const p of pts) {
        root.append(svg('circle', { cx: x(p.t + step / 2), cy: y(p.v), r: 2.5, fill: s.color },
          svg('title', {}, `${hhmm(tz, p.t)} ${s.name}: ${yFormat(p.v)}`)));
      }
    }
  }
  for (const r of refs) {
    root.append(svg('line', {
      x1: margin.left, x2: margin.left + plotW, y1: y(r.value), y2: y(r.value),
      class: 'ref', stroke: r.color,
    }));
  }
  figure.append(root);
  figure.append(legend([
    ...series.map((s) => ({ name: s.name, color: s.color, kind: s.kind === 'bar' ? 'bar' : 'line' })),
    ...bands.map((b) => ({ name: b.name, color: b.color, kind: 'band' })),
    ...refs.map((r) => ({ name: r.name, color: r.color, kind: 'ref' })),
  ]));
  return figure;
}

/**
 * Shifts per agent over [from, to): `rows` of `{ label, items: [{ id,
 * start, end, breaks: [{ start, end }] }] }` (instants in ms);
 * `onSelect(id)` when a shift is clicked; `selected` is outlined.
 */
export function gantt({ rows, from, to, tz, width = 960, onSelect, selected, testid }) {
  const labelW = 150;
  const rowH = 24;
  const top = 8;
  const plotW = Math.max(160, width - labelW - 16);
  const height = top + rows.length * rowH + 40;
  const x = (t) => labelW + ((t - from) / (to - from)) * plotW;
  const root = svg('svg', {
    viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': 'Shifts per agent', class: 'chart-svg gantt',
  });
  for (let h = from; h <= to; h += 2 * HOUR) {
    root.append(svg('line', { x1: x(h), x2: x(h), y1: top, y2: top + rows.length * rowH, class: 'grid' }));
    root.append(svg('text', { x: x(h), y: top + rows.length * rowH + 16, class: 'tick', 'text-anchor': 'middle' }, hhmm(tz, h)));
  }
  root.append(svg('text', {
    x: labelW + plotW / 2, y: height - 4, class: 'axis-label', 'text-anchor': 'middle',
  }, `Time (${tz})`));
  rows.forEach((row, i) => {
    const y = top + i * rowH;
    if (i % 2 === 0) root.append(svg('rect', { x: 0, y, width, height: rowH, class: 'stripe' }));
    root.append(svg('text', { x: 8, y: y + 16, class: 'row-label' }, row.label));
    for (const item of row.items) {
      const start = Math.max(item.start, from);
      const end = Math.min(item.end, to);
      if (end <= start) continue;
      const g = svg('g', {
        class: `shift${item.id === selected ? ' selected' : ''}`, 'data-shift': item.id,
        tabindex: onSelect ? 0 : null, role: onSelect ? 'button' : null,
        'aria-label': `Shift ${item.id}, ${row.label}, ${hhmm(tz, item.start)} to ${hhmm(tz, item.end)}`,
      });
      g.append(svg('rect', { x: x(start), y: y + 4, width: x(end) - x(start), height: rowH - 8, rx: 3 }));
      for (const b of item.breaks || []) {
        const bs = Math.max(b.start, from);
        const be = Math.min(b.end, to);
        if (be > bs) g.append(svg('rect', { x: x(bs), y: y + 4, width: x(be) - x(bs), height: rowH - 8, class: 'break' }));
      }
      g.append(svg('title', {}, `Shift ${item.id}: ${hhmm(tz, item.start)}–${hhmm(tz, item.end)}`));
      if (onSelect) {
        g.addEventListener('click', () => onSelect(item.id));
        g.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') onSelect(item.id); });
      }
      root.append(g);
    }
  });
  const figure = el('figure', { class: 'chart', dataset: { testid: testid || null } }, root);
  figure.append(legend([
    { name: 'Shift', color: 'var(--shift)', kind: 'bar' },
    { name: 'Break', color: 'var(--break)', kind: 'bar' },
  ]));
  return figure;
}
