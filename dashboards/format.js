// Numbers, times and elements as the pages show them. Times are shown on
// the contact center's clock (the API's `time_zone`), whatever the
// browser's own zone.

const EMPTY = '—';

/** A share as a percentage (`0.8889` → `88.9 %`). */
export function pct(share, digits = 1) {
  return share == null || !Number.isFinite(share) ? EMPTY : `${(share * 100).toFixed(digits)} %`;
}

/** A number with `digits` decimals and thousands separators. */
export function num(value, digits = 0) {
  if (value == null || !Number.isFinite(value)) return EMPTY;
  return value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** Seconds as `12 s`. */
export function secs(value) {
  return value == null || !Number.isFinite(value) ? EMPTY : `${Math.round(value)} s`;
}

/** Seconds as a clock, `m:ss` (or `h:mm:ss`). */
export function clock(value) {
  if (value == null || !Number.isFinite(value)) return EMPTY;
  const total = Math.max(0, Math.round(value));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

const formats = new Map();
function formatter(tz, options) {
  const key = tz + JSON.stringify(options);
  if (!formats.has(key)) {
    formats.set(key, new Intl.DateTimeFormat('en-GB', { timeZone: tz, hourCycle: 'h23', ...options }));
  }
  return formats.get(key);
}

/** `HH:MM` of an instant on the clock of `tz`. */
export function hhmm(tz, instant) {
  return formatter(tz, { hour: '2-digit', minute: '2-digit' }).format(new Date(instant));
}

/** `YYYY-MM-DD` of an instant on the clock of `tz`. */
export function isoDate(tz, instant) {
  const parts = Object.fromEntries(
    formatter(tz, { year: 'numeric', month: '2-digit', day: '2-digit' })
      .formatToParts(new Date(instant))
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day}`;
}

/** `Wed 06 Mar` of an instant on the clock of `tz`. */
export function dayLabel(tz, instant) {
  return formatter(tz, { weekday: 'short', day: '2-digit', month: 'short' }).format(new Date(instant));
}

/** `06 Mar 2024, 14:05` of an instant on the clock of `tz`. */
export function dateTime(tz, instant) {
  if (instant == null) return EMPTY;
  return formatter(tz, {
    year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit',
  }).format(new Date(instant));
}

/** Minutes after local midnight of an instant on the clock of `tz`. */
export function minuteOfDay(tz, instant) {
  const [h, m] = hhmm(tz, instant).split(':').map(Number);
  return h * 60 + m;
}

/**
 * An element: `el('td', { class: 'num', dataset: { field: 'x' } }, 'text', child)`.
 * Attributes starting with `on` are listeners.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'value') node.value = value;
    else if (key === 'style') node.style.cssText = value; // CSSOM: allowed by the page's CSP
    else node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** A table from column headers and rows of cells (numbers right-aligned). */
export function table(headers, rows, { caption, testid, foot } = {}) {
  const head = el('tr', {}, headers.map((h) => el('th', { class: h.num ? 'num' : null, scope: 'col' }, h.label ?? h)));
  const body = rows.map((cells) =>
    el('tr', {}, cells.map((c, i) => el('td', { class: headers[i].num ? 'num' : null }, c))),
  );
  return el('div', { class: 'table-wrap' },
    el('table', { dataset: testid ? { testid } : undefined },
      caption ? el('caption', {}, caption) : null,
      el('thead', {}, head),
      el('tbody', {}, body),
      foot ? el('tfoot', {}, el('tr', {}, foot.map((c, i) => el('td', { class: headers[i].num ? 'num' : null }, c)))) : null,
    ),
  );
}

/**
 * KPI tiles from `[label, value, field, class]` entries (`field` names the
 * value for tests; class `text` for words rather than numbers).
 */
export function kpiTiles(entries, testid) {
  return el('div', { class: 'kpis', dataset: testid ? { testid } : null },
    entries.map(([label, value, key, kind]) => el('div', { class: 'kpi' },
      el('span', {}, label), el('b', { class: kind, dataset: key ? { field: key } : null }, value))));
}

/** A labelled control. */
export function field(label, control) {
  return el('label', { class: 'field' }, el('span', {}, label), control);
}

/** A select of `options` ([value, label] or value), `value` selected. */
export function select(options, value, onchange, attrs = {}) {
  return el('select', { onchange: (e) => onchange(e.target.value), ...attrs },
    options.map((o) => {
      const [v, label] = Array.isArray(o) ? o : [o, o];
      const option = el('option', { value: v }, label);
      option.selected = v === value;
      return option;
    }),
  );
}

/** A message box: `kind` is `error`, `info` or `ok`. */
export function notice(kind, text) {
  return el('p', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}
