// app.js: starts the UI. It checks the session, shows the login screen or
// the page the address names (hash routes), builds the navigation from the
// user's roles and sends the user back to login when the session ends.
import { api, onUnauthorized } from './api.js';
import { h, clear, banner } from './dom.js';
import { showLogin } from './login.js';
import { showGrid } from './grid.js';
import { showCamera } from './camera.js';
import { showManageCameras } from './manage_cameras.js';
import { showMembers } from './members.js';
import { showAudit } from './audit.js';
import { showAPIReference } from './apiref.js';
import { showWebhooks } from './webhooks.js';
import { showUsage } from './usage.js';
import { showShares } from './shares.js';
import { showSites } from './sites.js';
import { showEvents, Notifier } from './events.js';
import { showAccount } from './account.js';
import { showSync } from './sync.js';
import { clearStills } from './stills.js';

const main = document.getElementById('main');
const top = document.getElementById('top');
// On a phone the navigation folds behind one button instead of wrapping.
const menu = document.getElementById('menu');

/** state is the logged-in session: user, roles and what the UI may show. */
const state = { me: null, caps: null, cleanup: null, expiry: 0, cameras: null, notifier: null };
state.notifier = new Notifier((id) => {
  const c = state.cameras && state.cameras.list.find((x) => x.id === id);
  return c ? c.name : 'A camera';
});

const routes = [
  { re: /^#?\/?(?:\?label=([^&#]{1,400}))?$/, view: showGrid },
  { re: /^#\/camera\/([0-9a-f]{32})(?:\?at=(\d{1,15}))?$/, view: showCamera },
  { re: /^#\/events$/, view: showEvents },
  { re: /^#\/sync(?:\/((?:[0-9a-f]{32},?){0,4}))?(?:\?at=(\d{1,15}))?$/, view: showSync },
  { re: /^#\/manage\/cameras$/, view: showManageCameras, cap: 'cameras' },
  { re: /^#\/manage\/members$/, view: showMembers, cap: 'members' },
  { re: /^#\/manage\/audit$/, view: showAudit, cap: 'audit' },
  { re: /^#\/manage\/webhooks$/, view: showWebhooks, cap: 'members' },
  { re: /^#\/manage\/usage$/, view: showUsage, cap: 'members' },
  { re: /^#\/manage\/sites$/, view: showSites },
  { re: /^#\/shares$/, view: showShares },
  { re: /^#\/account$/, view: showAccount },
  { re: /^#\/api$/, view: showAPIReference },
];

/** capabilities derives what management pages to offer from /me. */
function capabilities(me, cams) {
  const roles = (me.memberships || []).map((m) => m.role);
  if (me.acting_as) roles.push(me.acting_as.role);
  const admin = roles.some((r) => r === 'owner' || r === 'admin');
  return {
    admin,
    members: admin,
    audit: admin || me.user.platform_admin,
    cameras: admin || cams.some((c) => (c.permissions || []).includes('manage')),
    createOrg: me.user.platform_admin,
  };
}

function stopView() {
  if (state.cleanup) {
    try { state.cleanup(); } catch { /* a view failing to stop must not block the next */ }
    state.cleanup = null;
  }
}

/** loggedOut shows the login screen, with an optional note. */
function loggedOut(note) {
  stopView();
  clearTimeout(state.expiry);
  state.me = null;
  state.cameras = null;
  state.notifier.stop();
  clearStills();
  top.hidden = true;
  banner(null);
  showLogin(main, start, note);
}

function nav() {
  const c = state.caps;
  const links = [
    ['#/', 'Cameras', true],
    ['#/events', 'Events', true],
    ['#/manage/cameras', 'Manage cameras', c.cameras],
    ['#/manage/members', 'Members', c.members],
    ['#/manage/audit', 'Audit log', c.audit],
    ['#/manage/webhooks', 'Webhooks', c.members],
    ['#/manage/usage', 'Usage', c.members],
    ['#/manage/sites', 'Sites', c.members],
    ['#/shares', 'Shared links', true],
    ['#/account', 'Account', true],
  ];
  clear(document.getElementById('nav'), links.filter((l) => l[2]).map(([href, label]) => h('a', { href, 'data-nav': href }, label,
    href === '#/events' ? state.notifier.badge : null)));
  top.classList.remove('open');
  document.getElementById('who').textContent = state.me.user.email;
  top.hidden = false;
}

function route() {
  if (!state.me) return;
  stopView();
  banner(null);
  top.classList.remove('open');
  menu.setAttribute('aria-expanded', 'false');
  const hash = location.hash || '#/';
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.getAttribute('href') === hash);
  for (const r of routes) {
    const m = hash.match(r.re);
    if (!m) continue;
    if (r.cap && !state.caps[r.cap]) break;
    clear(main);
    state.cleanup = r.view(main, { ...state, params: m.slice(1), refreshCaps }) || null;
    return;
  }
  clear(main, h('div', { class: 'card' }, h('h2', {}, 'Page not found'), h('p', {}, 'This page does not exist or is not available to you. '), h('a', { href: '#/' }, 'Back to cameras')));
}

/** refreshCaps reloads /me and the camera list, then the navigation. */
async function refreshCaps() {
  const [me, cams] = await Promise.all([api.get('/api/v1/me'), api.get('/api/v1/cameras')]);
  state.me = me;
  state.caps = capabilities(me, cams.cameras || []);
  state.cameras = { list: cams.cameras || [], at: Date.now() };
  nav();
}

/** start loads the session; without one it shows the login screen. */
async function start() {
  try {
    await refreshCaps();
  } catch (err) {
    if (err.status === 401) {
      loggedOut();
      return;
    }
    clear(main, h('div', { class: 'card' }, h('h2', {}, 'camcloud cannot start'), h('p', { class: 'error' }, err.message),
      h('button', { type: 'button', onclick: start }, 'Try again')));
    return;
  }
  clearTimeout(state.expiry);
  if (state.me.expires_at) {
    const ms = new Date(state.me.expires_at).getTime() - Date.now();
    state.expiry = setTimeout(() => loggedOut('Your session has expired. Log in again.'), Math.min(Math.max(ms, 0), 2 ** 31 - 1));
  }
  state.notifier.start();
  route();
}

onUnauthorized(() => {
  if (state.me) loggedOut('Your session has ended. Log in again.');
});
window.addEventListener('hashchange', route);
menu.addEventListener('click', () => {
  const open = top.classList.toggle('open');
  menu.setAttribute('aria-expanded', String(open));
});
document.getElementById('logout').addEventListener('click', async () => {
  try {
    await api.post('/api/v1/auth/logout');
  } catch (err) {
    if (err.status !== 401) {
      banner(`Logging out failed: ${err.message}`);
      return;
    }
  }
  history.replaceState(null, '', '#/');
  loggedOut('You have logged out.');
});
start();
