// audit.js: the audit log with filters (time range, actor, camera,
// organisation), newest first.
import { api, q } from './api.js';
import { h, clear, errorBox, fmtTime, localInput, busy } from './dom.js';
import { loadOrgs } from './orgs.js';

/**
 * targetName is what an entry acted on, by name: the server's target_name
 * (a camera's or organisation's name, a user's email), else the name of
 * its camera, else the raw target (the id stays in the tooltip).
 */
function targetName(e, camNames) {
  const name = e.target_name || e.camera_name || (e.camera_id && camNames.get(e.camera_id));
  return name ? h('span', { title: e.target }, name) : e.target;
}

/** showAudit renders the audit log page. */
export function showAudit(main) {
  const err = errorBox();
  const from = h('input', { type: 'datetime-local', step: 1, id: 'audit-from', value: localInput(new Date(Date.now() - 24 * 3600000)) });
  const to = h('input', { type: 'datetime-local', step: 1, id: 'audit-to' });
  const actor = h('input', { type: 'text', id: 'audit-actor', placeholder: 'email', maxlength: 254 });
  const camera = h('select', { id: 'audit-camera' }, h('option', { value: '' }, 'any'));
  const org = h('select', { id: 'audit-org' }, h('option', { value: '' }, 'any'));
  const limit = h('select', { id: 'audit-limit' }, [100, 500, 2000].map((n) => h('option', { value: n }, String(n))));
  const out = h('div', { class: 'card scroll' });
  const go = h('button', { type: 'submit', class: 'primary' }, 'Show');
  const camNames = new Map();

  async function load() {
    err.set(null);
    const params = { actor: actor.value.trim(), camera: camera.value, org: org.value, limit: limit.value };
    if (from.value) params.from = new Date(from.value);
    if (to.value) params.to = new Date(to.value);
    try {
      const res = await api.get(`/api/v1/audit${q(params)}`);
      const rows = (res.entries || []).map((e) => h('tr', {},
        h('td', { class: 'nowrap' }, fmtTime(e.time)), h('td', {}, e.actor, e.actor_as ? h('div', { class: 'muted small' }, `as ${e.actor_as}`) : null),
        h('td', {}, e.action), h('td', {}, targetName(e, camNames)), h('td', {}, e.address), h('td', {}, e.detail || '')));
      clear(out, rows.length ? h('table', { id: 'audit' }, h('thead', {}, h('tr', {}, ['Time', 'Actor', 'Action', 'Target', 'Address', 'Detail'].map((t) => h('th', {}, t)))), h('tbody', {}, rows))
        : h('p', { class: 'muted' }, 'No entries match.'));
    } catch (e) {
      err.set(e);
    }
  }

  (async () => {
    try {
      const [cams, orgs] = await Promise.all([api.get('/api/v1/cameras'), loadOrgs()]);
      for (const c of cams.cameras || []) {
        camNames.set(c.id, c.name);
        camera.append(h('option', { value: c.id }, c.name));
      }
      for (const [id, name] of orgs) org.append(h('option', { value: id }, name));
    } catch (e) {
      err.set(e);
    }
  })();
  clear(main, h('h2', {}, 'Audit log'),
    h('form', { class: 'card row wrap', onsubmit: (e) => { e.preventDefault(); busy(go, load); } },
      h('label', {}, 'From', from), h('label', {}, 'To', to), h('label', {}, 'Actor', actor),
      h('label', {}, 'Camera', camera), h('label', {}, 'Organisation', org), h('label', {}, 'At most', limit), go),
    err, out);
  load();
  return null;
}
