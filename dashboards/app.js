// The shell: sign-in with a token, the pages a role may use in the
// navigation, and a hash router (#/wallboard, #/intervals, …). Pages are
// modules exporting { title, needs, render(main, context) }; render may
// return a function that stops what the page started (streams, timers).

import { api, token, setToken, clearToken, ApiError } from './api.js';
import { el, notice } from './format.js';
import * as wallboard from './pages/wallboard.js';
import * as intervals from './pages/intervals.js';
import * as forecast from './pages/forecast.js';
import * as staffing from './pages/staffing.js';
import * as pacing from './pages/pacing.js';
import * as reports from './pages/reports.js';
import * as sql from './pages/sql.js';

const PAGES = { wallboard, intervals, forecast, staffing, pacing, reports, sql };

/** What each role may do: the API's role matrix (the API refuses the rest anyway). */
const PERMISSIONS = {
  admin: ['read', 'sql', 'plan', 'reports', 'pacing', 'metrics'],
  analyst: ['read', 'sql'],
  planner: ['read', 'plan'],
  manager: ['read', 'reports'],
  dialer: ['pacing'],
  viewer: ['read', 'metrics'],
};

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
let me = null;
let stop = null;

function can(permission) {
  return Boolean(me && (PERMISSIONS[me.role] || []).includes(permission));
}

function stopPage() {
  if (typeof stop === 'function') stop();
  stop = null;
}

function signIn(message) {
  stopPage();
  me = null;
  nav.replaceChildren();
  who.replaceChildren();
  const input = el('input', {
    type: 'password', name: 'token', autocomplete: 'current-password', required: true,
    placeholder: 'ql_…', 'aria-label': 'Token',
  });
  const form = el('form', {
    class: 'card signin',
    onsubmit: async (event) => {
      event.preventDefault();
      setToken(input.value.trim());
      await start();
    },
  },
  el('h1', {}, 'Sign in'),
  el('p', { class: 'muted' }, 'Paste your queuelake token. It is kept in this tab only and sent to this server alone.'),
  message ? notice('error', message) : null,
  el('label', { class: 'field' }, el('span', {}, 'Token'), input),
  el('button', { type: 'submit', class: 'primary' }, 'Sign in'));
  main.replaceChildren(form);
  input.focus();
}

function renderNav(current) {
  nav.replaceChildren(...Object.entries(PAGES)
    .filter(([, page]) => can(page.needs))
    .map(([name, page]) => el('a', {
      href: `#/${name}`, class: name === current ? 'active' : null,
      'aria-current': name === current ? 'page' : null,
    }, page.title)));
  who.replaceChildren(
    el('span', { class: 'role', title: me.queues ? `Queues: ${me.queues.join(', ')}` : 'All queues' }, `${me.name} · ${me.role}`),
    el('button', {
      class: 'link', type: 'button',
      onclick: () => { clearToken(); signIn(); },
    }, 'Sign out'),
  );
}

function firstPage() {
  return Object.keys(PAGES).find((name) => can(PAGES[name].needs));
}

async function route() {
  if (!me) return;
  stopPage();
  const name = (location.hash.match(/^#\/([a-z]+)/) || [])[1] || firstPage();
  const page = PAGES[name];
  renderNav(name);
  if (!page) {
    main.replaceChildren(el('section', { class: 'card' }, el('h1', {}, 'No such page'), el('p', {}, `There is no page “${name}”.`)));
    return;
  }
  document.title = `${page.title} · queuelake`;
  if (!can(page.needs)) {
    main.replaceChildren(el('section', { class: 'card refused', dataset: { testid: 'refused' } },
      el('h1', {}, page.title),
      notice('error', `Your role (${me.role}) may not use the ${page.title} page.`)));
    return;
  }
  main.replaceChildren();
  try {
    stop = await page.render(main, { me, can, tz: me.time_zone });
  } catch (error) {
    main.append(notice('error', error instanceof ApiError ? error.message : `The page failed: ${error.message}`));
    if (!(error instanceof ApiError)) throw error;
  }
}

async function start() {
  // A token in the address (#token=…, as `queuelake demo` prints it) is
  // taken and removed from the address bar.
  const given = location.hash.match(/token=([^&]+)/);
  if (given) {
    setToken(decodeURIComponent(given[1]));
    history.replaceState(null, '', `${location.pathname}#/`);
  }
  if (!token()) {
    signIn();
    return;
  }
  try {
    me = await api('/api/v1/me');
  } catch (error) {
    clearToken();
    signIn(error instanceof ApiError && error.status === 401 ? 'That token is not known to this server.' : error.message);
    return;
  }
  if (!firstPage()) {
    renderNav('');
    main.replaceChildren(el('section', { class: 'card refused' }, el('h1', {}, 'No dashboards for this token'),
      notice('error', `The role ${me.role} is for machines (it reads pacing targets over the API); dashboards need a person's role.`)));
    return;
  }
  await route();
}

window.addEventListener('hashchange', route);
window.addEventListener('queuelake:signed-out', (e) => {
  clearToken();
  signIn(e.detail || 'Signed out: the token was refused.');
});
start();
