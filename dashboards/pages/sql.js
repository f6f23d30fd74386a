// SQL console (analysts): one read-only query over the lake's tables and
// views, its result as a table, and the same query as CSV.

import { api, apiBlob, saveBlob } from '../api.js';
import { el, num, notice } from '../format.js';

export const title = 'SQL';
export const needs = 'sql';

const EXAMPLE = `SELECT queue,
       SUM(offered) AS offered,
       SUM(answered) AS answered,
       ROUND(SUM(answered_within_sl) * 1.0 / NULLIF(SUM(offered) - SUM(short_abandoned), 0), 4) AS service_level
FROM interval_stats
GROUP BY queue
ORDER BY queue`;

const SHOWN_ROWS = 1000;
const NUMERIC = /^(U?Int|Float|Decimal)/;

function cell(value) {
  if (value == null) return el('span', { class: 'muted' }, 'NULL');
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

export function render(main) {
  const editor = el('textarea', { name: 'sql', rows: 9, spellcheck: 'false', 'aria-label': 'SQL' });
  editor.value = sessionStorage.getItem('queuelake.sql') || EXAMPLE;
  const output = el('div', { dataset: { testid: 'sql-output' } });
  const run = el('button', { type: 'submit', class: 'primary' }, 'Run');
  const csv = el('button', { type: 'button', dataset: { testid: 'csv' } }, 'Download CSV');
  const form = el('form', {
    class: 'card sql',
    onsubmit: async (event) => {
      event.preventDefault();
      sessionStorage.setItem('queuelake.sql', editor.value);
      run.disabled = true;
      output.replaceChildren(el('p', { class: 'muted' }, 'Running…'));
      try {
        const result = await api('/api/v1/sql', { method: 'POST', body: { sql: editor.value } });
        const shown = result.rows.slice(0, SHOWN_ROWS);
        output.replaceChildren(
          el('p', { class: 'muted', dataset: { testid: 'sql-summary' } },
            `${num(result.row_count)} rows in ${num(result.elapsed_ms, 1)} ms${result.row_count > SHOWN_ROWS ? ` (first ${num(SHOWN_ROWS)} shown; the CSV has all)` : ''}`),
          el('div', { class: 'table-wrap' }, el('table', { dataset: { testid: 'sql-table' } },
            el('thead', {}, el('tr', {}, result.columns.map((c) => el('th', { scope: 'col', title: c.type, class: NUMERIC.test(c.type) ? 'num' : null }, c.name, el('small', {}, c.type))))),
            el('tbody', {}, shown.map((row) => el('tr', {}, row.map((v) => el('td', { class: typeof v === 'number' ? 'num' : null }, cell(v)))))))));
      } catch (error) {
        output.replaceChildren(notice('error', error.message));
      } finally {
        run.disabled = false;
      }
    },
  },
  el('label', { class: 'field wide' }, el('span', {}, 'Query (read-only; Ctrl+Enter runs it)'), editor),
  el('div', { class: 'buttons' }, run, csv));
  editor.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) form.requestSubmit();
  });
  csv.addEventListener('click', async () => {
    try {
      const blob = await apiBlob('/api/v1/sql', { method: 'POST', body: { sql: editor.value, format: 'csv' } });
      saveBlob(blob, 'query.csv');
    } catch (error) {
      output.replaceChildren(notice('error', error.message));
    }
  });
  main.append(el('section', {}, el('div', { class: 'page-head' }, el('h1', {}, 'SQL console')), form, output));
}
