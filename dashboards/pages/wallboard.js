// Wallboard: every queue now, over the live stream (server-sent events):
// today's service level against the target, callers waiting, the longest
// wait, today's calls, and agents by state; outbound campaigns below.
// Large type for a wall screen; one column on a phone.

import { followEvents } from '../api.js';
import { el, pct, num, clock, dateTime } from '../format.js';

export const title = 'Wallboard';
export const needs = 'read';

const STATES = [
  ['available', 'Available'],
  ['on_call', 'On call'],
  ['ringing', 'Ringing'],
  ['wrapup', 'Wrap-up'],
  ['paused', 'Paused'],
  ['unavailable', 'Unavailable'],
];

/** `good`, `warn` or `bad`: the service level against the target. */
function level(share, target) {
  if (share == null || target == null) return 'none';
  if (share >= target) return 'good';
  return share >= target - 0.1 ? 'warn' : 'bad';
}

function waitLevel(seconds) {
  if (seconds >= 60) return 'bad';
  return seconds >= 20 ? 'warn' : 'good';
}

function tile(queue, target) {
  const t = queue.today;
  const a = queue.agents;
  const total = STATES.reduce((sum, [key]) => sum + a[key], 0);
  return el('article', { class: 'tile', dataset: { queue: queue.queue } },
    el('header', {}, el('h2', {}, queue.queue),
      el('span', { class: `badge ${level(t.service_level, target)}`, dataset: { field: 'service_level' } }, pct(t.service_level))),
    el('div', { class: 'figures' },
      el('div', { class: `figure ${queue.calls_waiting > 0 ? 'warn' : ''}` },
        el('b', { dataset: { field: 'calls_waiting' } }, num(queue.calls_waiting)), el('span', {}, 'waiting')),
      el('div', { class: `figure ${waitLevel(queue.longest_wait_s)}` },
        el('b', { dataset: { field: 'longest_wait' } }, clock(queue.longest_wait_s)), el('span', {}, 'longest wait')),
      el('div', { class: 'figure' },
        el('b', { dataset: { field: 'available' } }, num(a.available)), el('span', {}, 'available'))),
    el('dl', { class: 'today' },
      el('div', {}, el('dt', {}, 'Offered'), el('dd', { dataset: { field: 'offered' } }, num(t.offered))),
      el('div', {}, el('dt', {}, 'Answered'), el('dd', { dataset: { field: 'answered' } }, num(t.answered))),
      el('div', {}, el('dt', {}, 'Abandoned'), el('dd', { dataset: { field: 'abandoned' } }, num(t.abandoned)))),
    el('div', { class: 'agents', role: 'img', 'aria-label': `Agents: ${a.logged_in} logged in` },
      el('div', { class: 'stack' }, STATES.filter(([key]) => a[key] > 0).map(([key, label]) =>
        el('span', { class: `state ${key}`, style: `flex-grow:${a[key]}`, title: `${label}: ${a[key]}` }))),
      el('ul', { class: 'states' }, STATES.map(([key, label]) =>
        el('li', { class: key }, el('i', {}), `${label} `, el('b', { dataset: { field: `agents_${key}` } }, num(a[key]))))),
      el('p', { class: 'muted small' }, `${num(a.logged_in)} logged in${total ? '' : ' · nobody on the floor'}`)),
  );
}

function campaignsBlock(view) {
  if (!view || !view.campaigns.length) return null;
  return el('section', { class: 'campaigns' },
    el('h2', {}, 'Campaigns'),
    el('div', { class: 'campaign-row' }, view.campaigns.map((c) =>
      el('div', { class: 'campaign', dataset: { campaign: c.campaign } },
        el('h3', {}, c.campaign),
        el('p', {}, el('b', {}, num(c.dialing + c.ringing)), ' dialing · ',
          el('b', {}, num(c.connected)), ' connected · ',
          el('b', {}, num(c.agents_available)), ' agents free')))));
}

export function render(main, { tz }) {
  const status = el('span', { class: 'badge none', dataset: { testid: 'link' } }, 'connecting');
  const clockText = el('span', { class: 'pbx-time', dataset: { testid: 'pbx-time' } }, '');
  const ami = el('span', { class: 'muted' }, '');
  const grid = el('div', { class: 'tiles', dataset: { testid: 'queues' } }, el('p', { class: 'muted' }, 'Waiting for the live stream…'));
  const outbound = el('div', {});
  main.append(el('section', { class: 'wallboard' },
    el('div', { class: 'page-head' }, el('h1', {}, 'Wallboard'),
      el('div', { class: 'status' }, clockText, ami, status)),
    grid, outbound));
  const controller = new AbortController();
  followEvents('/api/v1/live/stream', (name, data) => {
    const view = JSON.parse(data);
    if (name === 'queues') {
      clockText.textContent = `PBX clock ${dateTime(tz, Date.parse(view.pbx_time))}`;
      clockText.dataset.instant = view.pbx_time;
      ami.textContent = view.ami.configured ? `AMI ${view.ami.state}` : 'AMI not configured';
      const target = view.service_level_target;
      grid.replaceChildren(...(view.queues.length
        ? view.queues.map((q) => tile(q, target))
        : [el('p', { class: 'muted' }, 'No queues yet today.')]));
      grid.dataset.target = target ?? '';
    } else if (name === 'campaigns') {
      outbound.replaceChildren(campaignsBlock(view) || '');
    }
  }, (text) => {
    status.textContent = text === 'live' ? 'live' : text;
    status.className = `badge ${text === 'live' ? 'good' : 'warn'}`;
  }, controller.signal);
  return () => controller.abort();
}
