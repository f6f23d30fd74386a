// Pacing: each outbound campaign's decision now (GET /api/v1/pacing,
// refreshed every 5 s, not recorded): dial ratio, calls in flight, the
// projected abandon rate and the window's (30-day) abandon rate against
// the limit.

import { api } from '../api.js';
import { el, pct, num, secs, notice, table, kpiTiles } from '../format.js';

export const title = 'Pacing';
export const needs = 'read';

function meter(value, limit) {
  const share = value == null ? 0 : Math.min(1, value / Math.max(limit * 1.5, 1e-9));
  const mark = Math.min(1, limit / Math.max(limit * 1.5, 1e-9));
  const kind = value == null ? 'none' : value > limit ? 'bad' : value > limit * 0.8 ? 'warn' : 'good';
  const bar = el('span', { class: `meter ${kind}`, role: 'meter', 'aria-valuenow': value ?? 0, 'aria-valuemax': limit * 1.5 },
    el('i', { style: `width:${(share * 100).toFixed(1)}%` }),
    el('u', { style: `left:${(mark * 100).toFixed(1)}%`, title: `Limit ${pct(limit)}` }));
  return el('span', { class: 'meter-cell' }, bar, el('b', {}, pct(value, 2)));
}

/** Why pacing places no call, as a person reads it (`hold` from the API). */
const HOLDS = {
  no_ami: 'Held: no AMI link is configured, so there is no floor to pace on',
  link_down: 'Held: the AMI link is down; no calls until it is back and resynced',
  resyncing: 'Held: the AMI link is resyncing; no calls until it completes',
  stale: 'Held: nothing heard from the PBX for a while; its floor may be frozen',
  queue_unknown: "Held: the PBX shows no queue for this campaign",
  no_agents: 'Held: no agent of its queue is logged in and unpaused',
  over_budget: 'Held: the abandon budget of the window is spent',
};

function campaignCard(p) {
  const w = p.window;
  return el('article', { class: 'card campaign-card', dataset: { campaign: p.campaign, hold: p.hold ?? '' } },
    el('header', {}, el('h2', {}, p.campaign), el('span', { class: 'badge none' }, p.mode),
      p.hold ? el('span', { class: 'badge bad', role: 'status', dataset: { field: 'hold' } }, HOLDS[p.hold] ?? `Held: ${p.hold}`) : null),
    kpiTiles([
      ['Dial ratio (calls per free agent)', num(p.dial_ratio, 2), 'dial_ratio'],
      ['Calls to place now', num(p.calls), 'calls'],
      ['Calls in flight', num(p.inputs.calls_in_flight), 'in_flight'],
      ['Agents free', num(p.inputs.agents_free), 'agents_free'],
    ]),
    el('dl', { class: 'rates' },
      el('div', {}, el('dt', {}, 'Projected abandon rate (calls in flight)'), el('dd', { dataset: { field: 'projected' } }, meter(p.projected_abandon, w.target))),
      el('div', {}, el('dt', {}, `Abandon rate, last ${w.length} (${w.rate.replace('_', ' ')})`), el('dd', { dataset: { field: 'window' } }, meter(w.abandon_rate, w.target))),
      el('div', {}, el('dt', {}, 'Limit'), el('dd', { dataset: { field: 'limit' } }, pct(w.target, 1))),
      el('div', {}, el('dt', {}, 'Abandons still allowed in the window'), el('dd', {}, num(p.budget_left, 1)))),
    table([{ label: 'Estimate' }, { label: 'Value', num: true }], [
      ['Live answer rate (last hour)', pct(p.inputs.live_answer_rate)],
      ['Machine rate (AMD)', pct(p.inputs.machine_rate)],
      ['Ring time', secs(p.inputs.ring_s)],
      ['Talk time', secs(p.inputs.talk_s)],
      ['Wrap-up', secs(p.inputs.wrap_s)],
      ['Answered in window', num(w.live_answered)],
      ['Abandoned in window', num(w.abandoned)],
    ]));
}

export async function render(main) {
  const body = el('div', { class: 'campaign-grid', dataset: { testid: 'campaigns' } });
  const stamp = el('span', { class: 'muted' }, '');
  main.append(el('section', {}, el('div', { class: 'page-head' }, el('h1', {}, 'Pacing'), stamp), body));
  async function load() {
    try {
      const campaigns = await api('/api/v1/pacing');
      body.replaceChildren(...(campaigns.length
        ? campaigns.map(campaignCard)
        : [notice('info', 'No outbound campaigns configured or seen on the PBX.')]));
      stamp.textContent = `Updated ${new Date().toLocaleTimeString('en-GB')} · refreshes every 5 s`;
    } catch (error) {
      body.replaceChildren(notice('error', error.message));
    }
  }
  await load();
  const timer = setInterval(load, 5000);
  return () => clearInterval(timer);
}
