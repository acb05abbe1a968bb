// sites.js: an organisation's sites and their edge agents. Every member
// sees each site's status (online, last seen, buffer, backlog, upload
// rate, cameras); owners and admins add a site (its enrolment token
// shown once), hand out a new enrolment token and revoke the agent.
import { api } from './api.js';
import { h, clear, errorBox, confirmDialog, secretDialog, busy, fmtTime } from './dom.js';
import { loadOrgs, adminOrgs, orgSelect } from './orgs.js';
import { fmtBytes } from './storage.js';

/** fmtDuration formats seconds as "1 h 2 min", "3 min 4 s" or "5 s". */
function fmtDuration(s) {
  s = Math.round(s || 0);
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${s} s`;
}

/** fmtRate formats bits per second. */
function fmtRate(bps) {
  if (!bps) return '0 bit/s';
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(1)} Mbit/s`;
  if (bps >= 1e3) return `${(bps / 1e3).toFixed(0)} kbit/s`;
  return `${bps} bit/s`;
}

/** stateOf is a site's badge: revoked, waiting for an agent, online or offline. */
function stateOf(s) {
  if (s.revoked_at && !s.enrolled) return h('span', { class: 'badge offline', title: `revoked ${fmtTime(s.revoked_at)}` }, 'revoked');
  if (!s.enrolled) return h('span', { class: 'badge norec' }, s.enrolment_pending ? 'waiting for its agent' : 'no agent');
  const st = s.status || {};
  return st.online ? h('span', { class: 'badge online' }, 'online')
    : h('span', { class: 'badge offline', title: st.last_seen ? `last seen ${fmtTime(st.last_seen)}` : '' }, 'offline');
}

/** statusCells are the site's reported figures, or dashes before a heartbeat. */
function statusCells(s) {
  const st = s.status || {};
  if (!st.last_seen) return [h('td', { class: 'muted' }, 'never'), h('td', { class: 'muted' }, '-'), h('td', { class: 'muted' }, '-'), h('td', { class: 'muted' }, '-')];
  const used = st.buffer_max_bytes ? `${fmtBytes(st.buffer_used_bytes)} of ${fmtBytes(st.buffer_max_bytes)}` : fmtBytes(st.buffer_used_bytes);
  return [
    h('td', { class: 'small' }, fmtTime(st.last_seen), st.agent_version ? h('div', { class: 'muted' }, st.agent_version) : null),
    h('td', { class: 'num', 'data-field': 'buffer' }, used),
    h('td', { class: 'num', 'data-field': 'backlog' }, st.backlog_seconds || st.backlog_bytes ? `${fmtDuration(st.backlog_seconds)}, ${fmtBytes(st.backlog_bytes)}` : 'none'),
    h('td', { class: 'num', 'data-field': 'upload' }, fmtRate(st.upload_bps)),
  ];
}

function showToken(res, title) {
  secretDialog(title, 'The enrolment token is shown only now and works once, for 24 hours: put it in the agent\'s agent.yaml (enrolment_token) and start the agent.',
    [['Enrolment token', res.enrolment_token]]);
}

/** showSites renders the sites page; it refreshes every 10 s, as agents report. */
export function showSites(main, ctx) {
  const err = errorBox();
  const body = h('div', { id: 'sites-body' });
  const manages = new Set(adminOrgs(ctx.me));
  let orgs = new Map();
  let timer = 0;

  async function list() {
    clearTimeout(timer);
    let sites;
    let cams;
    try {
      [sites, cams] = await Promise.all([api.get('/api/v1/sites'), api.get('/api/v1/cameras')]);
    } catch (e) {
      err.set(e);
      timer = setTimeout(list, 10000);
      return;
    }
    err.set(null);
    const perSite = new Map();
    for (const c of cams.cameras || []) if (c.site_id) perSite.set(c.site_id, (perSite.get(c.site_id) || 0) + 1);
    const rows = (sites.sites || []).map((s) => {
      const actions = [];
      if (manages.has(s.org_id)) {
        const enrol = h('button', { type: 'button', onclick: () => busy(enrol, async () => {
          if (s.enrolled && !await confirmDialog('Make a new enrolment token? The current agent keeps working until an agent enrols with the new one.', 'New token')) return;
          try {
            showToken(await api.post(`/api/v1/sites/${encodeURIComponent(s.id)}/enrolment`), `Enrolment token for ${s.name}`);
            list();
          } catch (e) {
            err.set(e);
          }
        }) }, 'New enrolment token');
        actions.push(enrol);
        if (s.enrolled || s.enrolment_pending) {
          actions.push(h('button', { type: 'button', class: 'danger', onclick: async () => {
            if (!await confirmDialog(`Revoke the agent of ${s.name}? Its uploads and live relays stop at once; enrol again with a new token.`, 'Revoke')) return;
            try {
              await api.post(`/api/v1/sites/${encodeURIComponent(s.id)}/revoke`);
              list();
            } catch (e) {
              err.set(e);
            }
          } }, 'Revoke'));
        }
      }
      return h('tr', { 'data-site': s.id },
        h('td', {}, h('div', {}, s.name), h('div', { class: 'muted small' }, orgs.get(s.org_id) || s.org_id)),
        h('td', {}, stateOf(s)),
        ...statusCells(s),
        h('td', { class: 'num', 'data-field': 'cameras' }, String(perSite.get(s.id) || 0)),
        h('td', {}, h('div', { class: 'row wrap' }, actions)));
    });
    const table = rows.length
      ? h('div', { class: 'card scroll' }, h('table', { id: 'sites' },
        h('thead', {}, h('tr', {}, ['Site', 'Agent', 'Last seen', 'Buffer', 'Cloud lacks', 'Upload', 'Cameras', ''].map((t) => h('th', {}, t)))),
        h('tbody', {}, rows)))
      : h('p', { class: 'muted' }, 'No sites yet. A site is a place whose cameras an edge agent records and brings to the cloud.');
    clear(body, table, manages.size ? addForm() : null);
    timer = setTimeout(list, 10000);
  }

  function addForm() {
    const ids = [...manages].filter((id) => orgs.has(id) || ctx.me.acting_as);
    const name = h('input', { name: 'name', required: true, maxlength: 100, placeholder: 'Shop 12' });
    const org = orgSelect(ids, orgs, { name: 'org' });
    const formErr = errorBox();
    const form = h('form', { id: 'site-form', class: 'card' }, h('h3', {}, 'Add a site'),
      h('div', { class: 'row wrap' }, ids.length > 1 ? h('label', {}, 'Organisation', org) : null, h('label', {}, 'Name', name),
        h('button', { type: 'submit', class: 'primary' }, 'Add')), formErr);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      formErr.set(null);
      try {
        const res = await api.post('/api/v1/sites', { org_id: ids.length > 1 ? org.value : ids[0], name: name.value });
        showToken(res, `Site ${res.name} added`);
        list();
      } catch (e2) {
        formErr.set(e2);
      }
    });
    return form;
  }

  clear(main, h('h2', {}, 'Sites'), err, body);
  loadOrgs().then((m) => { orgs = m; list(); }, (e) => err.set(e));
  return () => clearTimeout(timer);
}
