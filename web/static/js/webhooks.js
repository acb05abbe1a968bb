// webhooks.js: an organisation's webhooks (owners and admins): add one
// (its secret shown once), turn it on or off, send a test, rotate the
// secret, delete, and read its delivery log (status, latency, attempts).
import { api, enc, q } from './api.js';
import { h, clear, errorBox, confirmDialog, secretDialog, busy, fmtTime } from './dom.js';
import { fillAdminOrgs } from './orgs.js';

/** types offered as filters (any other can be typed in). */
const knownTypes = ['camera.online', 'camera.offline', 'recording.gap', 'recording.storage', 'motion', 'custom.*', 'webhook.disabled'];

function showSecret(w, title) {
  secretDialog(title, 'The signing secret is shown only now: store it with the receiver, which checks the Camcloud-Signature header with it.',
    [['Secret', w.secret]]);
}

/** splitList reads a comma- or space-separated list. */
function splitList(s) {
  return s.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);
}

/** stateOf says how a webhook is doing, from its detail (streams). */
function stateOf(w) {
  if (!w.enabled) return h('span', { class: 'badge offline', title: w.disabled_reason || '' }, 'off');
  const failing = (w.streams || []).filter((s) => s.failing_since);
  if (failing.length) {
    const since = failing.map((s) => s.failing_since).sort()[0];
    return h('span', { class: 'badge norec', title: `failing since ${fmtTime(since)}` }, `failing since ${fmtTime(since)}`);
  }
  const backlog = (w.streams || []).reduce((n, s) => n + (s.backlog || 0), 0);
  return h('span', { class: 'badge online' }, backlog > 0 ? `on, ${backlog} behind` : 'on');
}

/** showWebhooks renders the webhooks page. */
export function showWebhooks(main, ctx) {
  const err = errorBox();
  const body = h('div');
  const pick = h('select', { id: 'webhooks-org' });
  pick.addEventListener('change', () => list(pick.value));

  async function init() {
    const got = await fillAdminOrgs(ctx, pick, body, err);
    if (got && got.ids.length) list(got.ids[0]);
  }

  async function list(org) {
    err.set(null);
    const base = `/api/v1/orgs/${enc(org)}/webhooks`;
    let hooks;
    try {
      const res = await api.get(base);
      hooks = await Promise.all((res.webhooks || []).map((w) => api.get(`${base}/${enc(w.id)}`)));
    } catch (e) {
      err.set(e);
      return;
    }
    const log = h('div');
    const rows = hooks.map((w) => {
      const on = h('input', { type: 'checkbox', checked: w.enabled, 'aria-label': `Deliver to ${w.url}` });
      on.addEventListener('change', async () => {
        try {
          await api.patch(`${base}/${enc(w.id)}`, { enabled: on.checked });
          list(org);
        } catch (e) {
          on.checked = !on.checked;
          err.set(e);
        }
      });
      const test = h('button', { type: 'button', onclick: () => busy(test, async () => {
        try {
          const r = await api.post(`${base}/${enc(w.id)}/test`);
          const d = r.delivery;
          test.title = d.ok ? `HTTP ${d.status} in ${d.duration_ms.toFixed(0)} ms` : (d.error || `HTTP ${d.status}`);
          test.textContent = d.ok ? 'Test: ok' : 'Test: failed';
          showLog(org, w, log);
        } catch (e) {
          err.set(e);
        }
      }) }, 'Test');
      const rotate = h('button', { type: 'button', onclick: async () => {
        if (!await confirmDialog('Make a new signing secret? The old one keeps signing beside it for 24 hours.', 'Rotate')) return;
        try {
          showSecret(await api.post(`${base}/${enc(w.id)}/rotate-secret`), 'New webhook secret');
        } catch (e) {
          err.set(e);
        }
      } }, 'Rotate secret');
      const rm = h('button', { type: 'button', class: 'danger', onclick: async () => {
        if (!await confirmDialog(`Delete the webhook to ${w.url} and its delivery log?`, 'Delete')) return;
        try {
          await api.del(`${base}/${enc(w.id)}`);
          list(org);
        } catch (e) {
          err.set(e);
        }
      } }, 'Delete');
      const logBtn = h('button', { type: 'button', class: 'link', onclick: () => showLog(org, w, log) }, 'Deliveries');
      return h('tr', { 'data-webhook': w.id },
        h('td', {}, h('div', { class: 'mono' }, w.url), w.description ? h('div', { class: 'muted small' }, w.description) : null),
        h('td', { class: 'small' }, (w.types || []).length ? w.types.join(', ') : h('span', { class: 'muted' }, 'all types'),
          h('div', { class: 'muted' }, (w.cameras || []).length ? `${w.cameras.length} camera(s)` : 'all cameras')),
        h('td', {}, h('label', { class: 'inline' }, on, stateOf(w))),
        h('td', {}, h('div', { class: 'row wrap' }, logBtn, test, rotate, rm)));
    });
    const table = rows.length
      ? h('div', { class: 'card scroll' }, h('table', { id: 'webhooks' },
        h('thead', {}, h('tr', {}, h('th', {}, 'URL'), h('th', {}, 'Events'), h('th', {}, 'Delivery'), h('th', {}))), h('tbody', {}, rows)))
      : h('p', { class: 'muted' }, 'No webhooks yet.');
    clear(body, table, log, addForm(org));
  }

  /** showLog renders a webhook's delivery log, newest first, with "More". */
  async function showLog(org, w, into) {
    const path = `/api/v1/orgs/${enc(org)}/webhooks/${enc(w.id)}/deliveries`;
    const tbody = h('tbody');
    const more = h('button', { type: 'button', hidden: true }, 'More');
    const e2 = errorBox();
    let cursor = '';
    async function page() {
      try {
        const res = await api.get(path + q({ limit: 50, cursor }));
        for (const d of res.deliveries || []) {
          tbody.append(h('tr', { class: d.ok ? '' : 'error' },
            h('td', { class: 'nowrap' }, fmtTime(d.at)), h('td', {}, d.event_type), h('td', {}, d.status || '-'),
            h('td', {}, String(d.attempt)), h('td', {}, `${d.duration_ms.toFixed(0)} ms`),
            h('td', {}, d.lag_ms ? `${d.lag_ms.toFixed(0)} ms` : ''), h('td', { class: 'small' }, d.error || ''),
            h('td', { class: 'small muted' }, d.node)));
        }
        cursor = res.next_cursor || '';
        more.hidden = !cursor;
      } catch (e) {
        e2.set(e);
      }
    }
    more.addEventListener('click', () => busy(more, page));
    clear(into, h('div', { class: 'card scroll', id: 'deliveries' }, h('h3', {}, `Deliveries to ${w.url}`), e2,
      h('table', {}, h('thead', {}, h('tr', {}, ['Time', 'Event', 'Status', 'Attempt', 'Round trip', 'Lag', 'Error', 'Node'].map((t) => h('th', {}, t)))), tbody),
      h('div', { class: 'row end' }, more)));
    await page();
  }

  function addForm(org) {
    const e2 = errorBox();
    const url = h('input', { type: 'url', name: 'url', required: true, maxlength: 2048, placeholder: 'https://hooks.example.com/camcloud' });
    const desc = h('input', { type: 'text', name: 'description', maxlength: 200 });
    const types = h('input', { type: 'text', name: 'types', list: 'webhook-types', placeholder: 'all types (or e.g. camera.offline, motion)' });
    const cams = h('input', { type: 'text', name: 'cameras', placeholder: 'all cameras (or camera ids)' });
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Add webhook');
    return h('form', { class: 'card', id: 'webhook-form', onsubmit: (ev) => {
      ev.preventDefault();
      busy(submit, async () => {
        e2.set(null);
        try {
          const w = await api.post(`/api/v1/orgs/${enc(org)}/webhooks`, {
            url: url.value.trim(), description: desc.value.trim(), types: splitList(types.value), cameras: splitList(cams.value),
          });
          showSecret(w, 'Webhook added');
          list(org);
        } catch (e) {
          e2.set(e);
        }
      });
    } }, h('h3', {}, 'Add a webhook'),
    h('datalist', { id: 'webhook-types' }, knownTypes.map((t) => h('option', { value: t }))),
    h('div', { class: 'row wrap' }, h('label', {}, 'URL', url), h('label', {}, 'Description', desc)),
    h('div', { class: 'row wrap' }, h('label', {}, 'Event types', types), h('label', {}, 'Cameras', cams)),
    h('p', { class: 'muted small' }, 'Each event is POSTed as JSON, signed (Camcloud-Signature); failures are retried for up to 24 hours, then the webhook is turned off.'),
    e2, h('div', { class: 'row end' }, submit));
  }

  clear(main, h('h2', {}, 'Webhooks'), err, h('label', { class: 'inline' }, 'Organisation ', pick), body);
  init();
  return null;
}
