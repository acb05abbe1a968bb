// events.js: what happened to the cameras. The events page lists events
// newest first with filters (camera, type, time range), a page at a time
// with the API's cursor; a click opens the camera at that moment. The
// notifier follows the org's event stream (Server-Sent Events, with the
// session cookie): it counts new offline and motion events on the
// navigation's badge until the events page is looked at, shows a short
// notice when a camera goes offline and tells the open page (a
// "camcloud:event" event on window) so that it can update at once.
import { api, q } from './api.js';
import { h, clear, errorBox, fmtTime, busy } from './dom.js';

const toastFor = 8000; // ms a notice stays
const pageSize = 50;
const retryAfter = 30000; // ms before the stream is opened again after an error answer

/** types are the event types the filter offers. */
const types = [
  ['', 'All types'],
  ['camera.offline', 'Offline'],
  ['camera.online', 'Online'],
  ['motion', 'Motion'],
  ['recording.gap', 'Recording gap'],
  ['recording.storage', 'Storage'],
  ['custom', 'Custom'],
  ['webhook.disabled', 'Webhook disabled'],
];

/** label names an event's type in words. */
export function typeLabel(type) {
  const t = types.find(([v]) => v && v === type);
  if (t) return t[1];
  return type.startsWith('custom.') ? type.slice(7) : type;
}

/** notable events raise the navigation's count. */
function notable(ev) {
  return ev.type === 'camera.offline' || (ev.type === 'motion' && !ev.end);
}

/**
 * Notifier follows the event stream while someone is logged in. badge is
 * the count's element (the navigation puts it in its "Events" link);
 * names(id) gives a camera's name for the notices.
 */
export class Notifier {
  constructor(names) {
    this.names = names;
    this.count = 0;
    this.src = null;
    this.running = false;
    this.retry = 0;
    this.looking = false; // the events page is open
    this.badge = h('span', { class: 'count', id: 'events-count', hidden: true, 'aria-live': 'polite' });
    this.toasts = h('div', { class: 'toasts', id: 'toasts', role: 'status' });
    document.body.append(this.toasts);
  }

  /**
   * start opens the stream. EventSource reconnects by itself with
   * Last-Event-ID; after an error answer (429 too many streams, 5xx) it
   * gives up, so the stream is opened again a little later.
   */
  start() {
    if (this.src || typeof EventSource === 'undefined') return;
    this.src = new EventSource('/api/v1/events/stream', { withCredentials: true });
    const src = this.src;
    this.src.onerror = () => {
      if (src.readyState !== EventSource.CLOSED || this.src !== src) return;
      this.src = null;
      clearTimeout(this.retry);
      this.retry = setTimeout(() => { if (this.running) this.start(); }, retryAfter);
    };
    this.running = true;
    this.src.onmessage = (m) => {
      let ev;
      try {
        ev = JSON.parse(m.data);
      } catch {
        return;
      }
      if (!ev || !ev.type) return;
      window.dispatchEvent(new CustomEvent('camcloud:event', { detail: ev }));
      if (notable(ev) && !this.looking) this.setCount(this.count + 1);
      if (ev.type === 'camera.offline') this.toast(`${this.names(ev.camera_id)} went offline`, ev);
    };
  }

  /** stop closes the stream and forgets the count (logout). */
  stop() {
    this.running = false;
    clearTimeout(this.retry);
    if (this.src) this.src.close();
    this.src = null;
    this.setCount(0);
    clear(this.toasts);
  }

  /** seen resets the count: the events page is being looked at. */
  seen(looking) {
    this.looking = looking;
    if (looking) this.setCount(0);
  }

  setCount(n) {
    this.count = n;
    this.badge.textContent = n === 0 ? '' : n > 99 ? '99+' : String(n);
    this.badge.hidden = n === 0;
    this.badge.title = `${n} new offline or motion events`;
  }

  toast(text, ev) {
    const t = h('a', { class: 'toast', href: `#/camera/${ev.camera_id}?at=${new Date(ev.time).getTime()}`, 'data-type': ev.type, 'data-camera': ev.camera_id }, text);
    this.toasts.append(t);
    setTimeout(() => t.remove(), toastFor);
  }
}

/** showEvents renders the events page; it returns a function that stops it. */
export function showEvents(main, ctx) {
  const cams = (ctx.cameras && ctx.cameras.list) || [];
  const names = new Map(cams.map((c) => [c.id, c.name]));
  const camSel = h('select', { id: 'ev-camera' }, h('option', { value: '' }, 'All cameras'),
    cams.map((c) => h('option', { value: c.id }, c.name)));
  const typeSel = h('select', { id: 'ev-type' }, types.map(([v, l]) => h('option', { value: v }, l)));
  const fromIn = h('input', { type: 'datetime-local', step: 1, id: 'ev-from' });
  const toIn = h('input', { type: 'datetime-local', step: 1, id: 'ev-to' });
  const err = errorBox();
  const body = h('tbody', {});
  const more = h('button', { type: 'button', id: 'ev-more', hidden: true }, 'Older events');
  const empty = h('p', { class: 'muted', hidden: true }, 'No events match.');
  let cursor = '';
  let gen = 0;
  if (ctx.notifier) ctx.notifier.seen(true);

  function filter() {
    const f = { camera: camSel.value, type: typeSel.value, limit: pageSize };
    if (fromIn.value) f.from = new Date(fromIn.value);
    if (toIn.value) f.to = new Date(toIn.value);
    return f;
  }

  function row(ev) {
    const at = new Date(ev.time).getTime();
    const dur = ev.end ? `${Math.max(0, Math.round((new Date(ev.end).getTime() - at) / 1000))} s` : ev.ongoing ? 'going on' : '';
    const detail = ev.detail && Object.keys(ev.detail).length ? JSON.stringify(ev.detail) : '';
    const href = `#/camera/${ev.camera_id}?at=${at}`;
    return h('tr', { class: 'ev-row', 'data-type': ev.type, 'data-id': ev.id, 'data-camera': ev.camera_id, 'data-href': href, onclick: () => { location.hash = href; } },
      h('td', {}, h('a', { href }, fmtTime(ev.time))),
      h('td', {}, names.get(ev.camera_id) || ev.camera_id),
      h('td', {}, h('span', { class: `badge ev ${ev.type.replace(/\..*/, '')}` }, typeLabel(ev.type))),
      h('td', { class: 'muted' }, dur),
      h('td', { class: 'muted small mono' }, detail.length > 120 ? `${detail.slice(0, 120)}…` : detail));
  }

  async function load(next) {
    const g = next ? gen : ++gen;
    err.set(null);
    if (!next) more.hidden = true; // the cursor shown belongs to the old filter
    try {
      const res = await api.get(`/api/v1/events${q({ ...filter(), cursor: next ? cursor : '' })}`);
      if (g !== gen) return;
      if (!next) clear(body);
      body.append(...(res.events || []).map(row));
      cursor = res.next_cursor || '';
      more.hidden = !cursor;
      empty.hidden = body.children.length > 0;
    } catch (e) {
      if (g === gen) err.set(`Events cannot be loaded: ${e.message}`);
    }
  }
  more.addEventListener('click', () => busy(more, () => load(true)));
  for (const el of [camSel, typeSel, fromIn, toIn]) el.addEventListener('change', () => load(false));
  let reload = 0;
  const onEvent = () => {
    // a new event: show it when the first page is what is shown
    clearTimeout(reload);
    reload = setTimeout(() => { if (!fromIn.value && !toIn.value && !cursor) load(false); }, 1000);
  };
  window.addEventListener('camcloud:event', onEvent);

  clear(main, h('div', { class: 'card' },
    h('h2', {}, 'Events'),
    h('div', { class: 'row wrap', id: 'ev-filters' },
      h('label', {}, 'Camera', camSel), h('label', {}, 'Type', typeSel),
      h('label', {}, 'From', fromIn), h('label', {}, 'To', toIn)),
    err,
    h('table', { id: 'events' }, h('thead', {}, h('tr', {}, h('th', {}, 'Time'), h('th', {}, 'Camera'), h('th', {}, 'Type'), h('th', {}, 'Length'), h('th', {}, 'Detail'))), body),
    empty, more));
  load(false);
  return () => {
    gen++;
    clearTimeout(reload);
    window.removeEventListener('camcloud:event', onEvent);
    if (ctx.notifier) ctx.notifier.seen(false);
  };
}
