// Reports: the reports defined; for managers, run one now for a period,
// follow the job history and download its files (fetched with the
// token, then saved).

import { api, apiBlob, saveBlob } from '../api.js';
import { el, num, dateTime, field, select, table, notice } from '../format.js';

export const title = 'Reports';
export const needs = 'read';

const PERIODS = [['yesterday', 'Yesterday'], ['last_week', 'Last week'], ['last_month', 'Last month'], ['custom', 'Custom…']];

/** `PDF`, `XLSX` or a CSV's query (`period_totals.csv`): the name without the job's stem. */
function fileLabel(job, file) {
  const dot = file.lastIndexOf('.');
  const extension = file.slice(dot + 1);
  const stem = file.slice(0, dot);
  const start = `${job.report}-${job.period}`;
  const rest = stem.startsWith(start) ? stem.slice(start.length).replace(/^-/, '') : '';
  const query = job.queues.length && rest.startsWith(job.queues.join('-')) ? rest.slice(job.queues.join('-').length).replace(/^-/, '') : rest;
  return query ? `${query}.${extension}` : extension.toUpperCase();
}

export async function render(main, { tz, can }) {
  const runner = can('reports');
  const reports = await api('/api/v1/reports');
  const message = el('div', {});
  const history = el('div', {});
  main.append(el('section', {},
    el('div', { class: 'page-head' }, el('h1', {}, 'Reports')),
    table([{ label: 'Report' }, { label: 'Name' }, { label: 'Period' }, { label: 'Formats' }, { label: 'Schedule (cron, with seconds)' }, { label: 'Recipients', num: true }],
      reports.map((r) => [r.title, el('code', {}, r.name), r.period.replace('_', ' '), r.formats.join(', '), r.schedule ? el('code', {}, r.schedule) : '—', num(r.recipients)]),
      { testid: 'reports-table', caption: 'Reports defined (built-in and [[reports]] of the configuration)' })));
  if (!runner) {
    main.append(notice('info', 'Running and downloading reports is for managers.'));
    return undefined;
  }
  const state = { report: reports[0]?.name, period: 'yesterday' };
  const from = el('input', { type: 'date', name: 'from' });
  const to = el('input', { type: 'date', name: 'to' });
  const custom = el('span', { class: 'custom', hidden: true }, field('From', from), field('To', to));
  const email = el('input', { type: 'checkbox', name: 'email' });
  const formats = Object.fromEntries(['xlsx', 'pdf', 'csv'].map((f) => [f, el('input', { type: 'checkbox', name: `format_${f}`, value: f })]));
  const showFormats = () => {
    const report = reports.find((r) => r.name === state.report);
    for (const [f, box] of Object.entries(formats)) box.checked = Boolean(report?.formats.includes(f));
  };
  showFormats();
  const button = el('button', { type: 'submit', class: 'primary' }, 'Run now');
  const form = el('form', {
    class: 'card inline-form', dataset: { testid: 'run-report' },
    onsubmit: async (event) => {
      event.preventDefault();
      const chosen = Object.keys(formats).filter((f) => formats[f].checked);
      if (!chosen.length) {
        message.replaceChildren(notice('error', 'Choose at least one format.'));
        return;
      }
      const body = { period: state.period, email: email.checked, formats: chosen };
      if (state.period === 'custom') Object.assign(body, { from: from.value, to: to.value });
      button.disabled = true;
      try {
        const queued = await api(`/api/v1/reports/${encodeURIComponent(state.report)}/runs`, { method: 'POST', body });
        message.replaceChildren(notice('ok', `Queued job ${queued.job_id} for ${queued.period}.`));
        await loadHistory();
      } catch (error) {
        message.replaceChildren(notice('error', error.message));
      } finally {
        button.disabled = false;
      }
    },
  },
  el('h2', {}, 'Run a report'),
  field('Report', select(reports.map((r) => [r.name, r.title]), state.report, (v) => { state.report = v; showFormats(); }, { name: 'report' })),
  field('Period', select(PERIODS, state.period, (v) => { state.period = v; custom.hidden = v !== 'custom'; }, { name: 'period' })),
  custom,
  el('fieldset', { class: 'formats' }, el('legend', {}, 'Formats'),
    Object.entries(formats).map(([f, box]) => el('label', { class: 'check' }, box, f.toUpperCase()))),
  el('label', { class: 'check' }, email, 'E-mail the recipients'),
  button);
  main.append(form, message, el('h2', {}, 'Job history'), history);

  async function download(job, file) {
    try {
      const blob = await apiBlob(`/api/v1/reports/jobs/${encodeURIComponent(job)}/files/${encodeURIComponent(file)}`);
      saveBlob(blob, file);
    } catch (error) {
      message.replaceChildren(notice('error', error.message));
    }
  }

  async function loadHistory() {
    const jobs = await api('/api/v1/reports/jobs?limit=25');
    history.replaceChildren(jobs.length ? table(
      [{ label: 'Report' }, { label: 'Period' }, { label: 'Status' }, { label: 'Attempts', num: true }, { label: 'Due' }, { label: 'Finished' }, { label: 'Asked by' }, { label: 'Files' }],
      jobs.map((j) => [j.report, j.period, el('span', { class: `badge ${j.status === 'Done' ? 'good' : j.status === 'Failed' ? 'bad' : 'warn'}`, title: j.error || '' }, j.status),
        `${j.attempts} of ${j.max_attempts}`, dateTime(tz, j.run_at && Date.parse(j.run_at)), dateTime(tz, j.done_at && Date.parse(j.done_at)), j.requested_by,
        j.outcome ? el('span', { class: 'files' }, j.outcome.files.map((f) => el('button', {
          type: 'button', class: 'link', title: f, dataset: { file: f }, onclick: () => download(j.id, f),
        }, fileLabel(j, f)))) : (j.error || '—')]),
      { testid: 'jobs-table' },
    ) : notice('info', 'No report jobs yet.'));
    return jobs;
  }
  await loadHistory();
  const timer = setInterval(() => loadHistory().catch(() => {}), 4000);
  return () => clearInterval(timer);
}
