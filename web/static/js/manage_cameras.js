// manage_cameras.js: add cameras (push or pull), show their ingest URLs
// once, rotate keys, edit name, source, retention and recording, delete
// with confirmation and edit per-camera grants. Shown only to users who
// may manage cameras; the API decides anyway.
import { api, enc } from './api.js';
import { labelText, parseLabels } from './labels.js';
import { h, clear, errorBox, confirmDialog, secretDialog, busy, banner } from './dom.js';
import { loadOrgs, adminOrgs, orgSelect } from './orgs.js';
import { statusBadge } from './grid.js';

const grantable = ['live', 'playback', 'export', 'manage'];

function showIngest(cam, title) {
  secretDialog(title, 'These URLs carry the camera\'s secret. They are shown only now: copy them into the camera or encoder.',
    [['RTSP', cam.ingest.rtsp_url], ['RTMP', cam.ingest.rtmp_url]]);
}

/** sourceFields is the push/pull choice with the pull URL. */
function sourceFields(src = { type: 'push' }) {
  const type = h('select', { name: 'source' }, h('option', { value: 'push' }, 'Push (camera sends RTSP/RTMP)'), h('option', { value: 'pull' }, 'Pull (camcloud reads RTSP)'));
  type.value = src.type || 'push';
  const url = h('input', { type: 'url', name: 'url', placeholder: 'rtsp://user:password@10.0.0.5/stream', maxlength: 2048 });
  const urlRow = h('label', {}, 'RTSP URL', url);
  const sync = () => { urlRow.hidden = type.value !== 'pull'; url.required = type.value === 'pull'; };
  type.addEventListener('change', sync);
  sync();
  return { type, url, urlRow, value: () => (type.value === 'pull' ? { type: 'pull', url: url.value.trim() } : { type: 'push' }) };
}

function recordingSelect(v) {
  const s = h('select', { name: 'recording' }, h('option', { value: 'continuous' }, 'Continuous'), h('option', { value: 'off' }, 'Off'));
  s.value = v || 'continuous';
  return s;
}

/** motionSelect picks a camera's motion detection: off, or on at a
 * sensitivity from 1 (only large changes) to 10 (small ones). */
function motionSelect(m) {
  const opts = [h('option', { value: 'off' }, 'Off')];
  for (let i = 1; i <= 10; i++) opts.push(h('option', { value: String(i) }, i === 1 ? '1 (least sensitive)' : i === 10 ? '10 (most sensitive)' : String(i)));
  const s = h('select', { name: 'motion' }, ...opts);
  s.value = m && !m.enabled ? 'off' : String((m && m.sensitivity) || 5);
  return { select: s, value: () => (s.value === 'off' ? { enabled: false } : { enabled: true, sensitivity: Number(s.value) }) };
}

function motionText(m) {
  return m && m.enabled ? `motion ${m.sensitivity}` : 'motion off';
}

/** labelsInput is the text field of a camera's labels. */
function labelsInput(value, id) {
  return h('input', { type: 'text', name: 'labels', id, value, maxlength: 4000, placeholder: 'site=shibuya, cost-center=retail', class: 'labels-input' });
}

/** labelChips shows a camera's labels. */
function labelChips(labels) {
  return Object.keys(labels).sort().map((k) => h('span', { class: 'chip', title: `label ${k}` }, `${k}=${labels[k]}`));
}

function addForm(ctx, orgs, reload) {
  const ids = adminOrgs(ctx.me);
  if (!ids.length) return null;
  const err = errorBox();
  const org = orgSelect(ids, orgs, { name: 'org' });
  const name = h('input', { type: 'text', name: 'name', required: true, maxlength: 100, id: 'new-camera-name' });
  const src = sourceFields();
  const retention = h('input', { type: 'number', name: 'retention', min: 1, max: 3650, value: 30 });
  const rec = recordingSelect();
  const labels = labelsInput('', 'new-camera-labels');
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Add camera');
  const form = h('form', { class: 'card', id: 'add-camera', onsubmit: (e) => {
    e.preventDefault();
    busy(submit, async () => {
      err.set(null);
      try {
        const cam = await api.post('/api/v1/cameras', { org_id: org.value, name: name.value.trim(), source: src.value(), retention_days: Number(retention.value), recording: rec.value,
          labels: parseLabels(labels.value) });
        form.reset();
        src.type.dispatchEvent(new Event('change'));
        // A pull camera is read by camcloud: it has nothing to push to.
        if (cam.source && cam.source.type === 'pull') banner(`Camera "${cam.name}" added: camcloud pulls its stream from the URL given.`, 'info');
        else if (cam.ingest) showIngest(cam, `Camera "${cam.name}" added`);
        reload();
        ctx.refreshCaps().catch(() => {});
      } catch (e2) {
        err.set(e2);
      }
    });
  } }, h('h3', {}, 'Add a camera'),
  h('div', { class: 'row wrap' }, ids.length > 1 ? h('label', {}, 'Organisation', org) : null, h('label', {}, 'Name', name),
    h('label', {}, 'Source', src.type), src.urlRow, h('label', {}, 'Retention (days)', retention), h('label', {}, 'Recording', rec), h('label', {}, 'Labels', labels)),
  err, h('div', { class: 'row end' }, submit));
  return form;
}

/** siteSelect offers the sites of the camera's organisation ("" for none). */
function siteSelect(cam, sites) {
  const mine = sites.filter((x) => x.org_id === cam.org_id);
  if (!mine.length && !cam.site_id) return null;
  return h('select', { name: 'site' }, h('option', { value: '' }, 'no site'),
    mine.map((x) => h('option', { value: x.id, selected: x.id === cam.site_id }, x.name)));
}

function editForm(cam, done, sites = []) {
  const err = errorBox();
  const site = siteSelect(cam, sites);
  const name = h('input', { type: 'text', value: cam.name, required: true, maxlength: 100 });
  const src = sourceFields(cam.source);
  const retention = h('input', { type: 'number', min: 1, max: 3650, value: cam.retention_days });
  const rec = recordingSelect(cam.recording);
  const motion = motionSelect(cam.motion);
  const labels = labelsInput(labelText(cam.labels));
  const save = h('button', { type: 'submit', class: 'primary' }, 'Save');
  return h('form', { class: 'sub', onsubmit: (e) => {
    e.preventDefault();
    busy(save, async () => {
      err.set(null);
      const body = { name: name.value.trim(), retention_days: Number(retention.value), recording: rec.value, motion: motion.value() };
      if (site && site.value !== (cam.site_id || '')) body.site_id = site.value;
      try {
        body.labels = parseLabels(labels.value);
      } catch (e2) {
        err.set(e2);
        return;
      }
      const s = src.value();
      // A pull URL is shown with its password masked: send it only when changed.
      if (s.type !== (cam.source && cam.source.type) || (s.type === 'pull' && src.url.value.trim() !== '')) body.source = s;
      try {
        const after = await api.patch(`/api/v1/cameras/${enc(cam.id)}`, body);
        // a pull camera that became push is handed URLs to push to
        if (after && after.ingest) showIngest(after, `"${after.name}" now receives pushed video`);
        done();
      } catch (e2) {
        err.set(e2);
      }
    });
  } }, h('div', { class: 'row wrap' }, h('label', {}, 'Name', name), h('label', {}, 'Source', src.type), src.urlRow,
    h('label', {}, 'Retention (days)', retention), h('label', {}, 'Recording', rec), h('label', {}, 'Motion detection', motion.select),
    h('label', {}, 'Labels', labels), site ? h('label', {}, 'Site', site) : null),
  cam.source && cam.source.type === 'pull' ? h('p', { class: 'muted small' }, `Current URL: ${cam.source.url || ''} (leave empty to keep it)`) : null,
  err, h('div', { class: 'row end' }, h('button', { type: 'button', onclick: () => done(true) }, 'Cancel'), save));
}

async function grantsPanel(cam) {
  const err = errorBox();
  const box = h('div', { class: 'sub' }, h('p', { class: 'muted' }, 'Loading access…'));
  try {
    const [members, grants] = await Promise.all([api.get(`/api/v1/orgs/${enc(cam.org_id)}/members`), api.get(`/api/v1/cameras/${enc(cam.id)}/grants`)]);
    const byUser = new Map((grants.grants || []).map((g) => [g.user_id, g.permissions]));
    const rows = (members.members || []).filter((m) => m.role === 'viewer' || m.role === 'operator').map((m) => {
      const boxes = grantable.map((p) => h('input', { type: 'checkbox', value: p, checked: (byUser.get(m.user_id) || []).includes(p) }));
      const save = h('button', { type: 'button' }, 'Save');
      save.addEventListener('click', () => busy(save, async () => {
        err.set(null);
        const perms = boxes.filter((b) => b.checked).map((b) => b.value);
        try {
          if (perms.length) await api.put(`/api/v1/cameras/${enc(cam.id)}/grants/${enc(m.user_id)}`, { permissions: perms });
          else await api.del(`/api/v1/cameras/${enc(cam.id)}/grants/${enc(m.user_id)}`);
          save.textContent = 'Saved';
          setTimeout(() => { save.textContent = 'Save'; }, 1500);
        } catch (e) {
          if (!(e.status === 404 && !perms.length)) err.set(e);
        }
      }));
      return h('tr', {}, h('td', {}, m.email || m.user_id), h('td', {}, m.role),
        h('td', {}, boxes.map((b) => h('label', { class: 'inline' }, b, ` ${b.value} `))), h('td', {}, save));
    });
    clear(box, h('h4', {}, 'Extra permissions on this camera'),
      rows.length ? h('div', { class: 'scroll' }, h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Member'), h('th', {}, 'Role'), h('th', {}, 'Grants'), h('th', {}))), h('tbody', {}, rows)))
        : h('p', { class: 'muted' }, 'Owners and admins may do everything; add viewers or operators as members to grant them more.'),
      err);
  } catch (e) {
    clear(box, h('p', { class: 'error' }, `Access cannot be loaded: ${e.message}`));
  }
  return box;
}

/** showManageCameras renders the camera management page. */
export function showManageCameras(main, ctx) {
  const err = errorBox();
  const list = h('div', { id: 'manage-list' });
  let stopped = false;
  async function load() {
    try {
      // a failure to list sites only hides the site field
      const [res, orgs, sites] = await Promise.all([api.get('/api/v1/cameras'), loadOrgs(), api.get('/api/v1/sites').catch(() => ({ sites: [] }))]);
      if (stopped) return;
      const cams = (res.cameras || []).filter((c) => (c.permissions || []).includes('manage')).sort((a, b) => a.name.localeCompare(b.name));
      const admin = new Set(adminOrgs(ctx.me));
      clear(list, cams.length ? cams.map((c) => row(c, orgs, admin.has(c.org_id), sites.sites || [])) : h('p', { class: 'muted' }, 'No cameras to manage.'));
      if (!main.querySelector('#add-camera')) {
        const f = addForm(ctx, orgs, load);
        if (f) list.before(f);
      }
    } catch (e) {
      err.set(e);
    }
  }
  function row(c, orgs, canGrant, sites) {
    const extra = h('div');
    const rowEl = h('div', { class: 'card cam-row', 'data-camera': c.id },
      h('div', { class: 'row between wrap' },
        h('div', {}, h('strong', {}, c.name), ' ', statusBadge(c),
          h('div', { class: 'muted small' }, `${orgs.get(c.org_id) || c.org_id} · ${c.source && c.source.type} · ${c.recording} · ${motionText(c.motion)} · keep ${c.retention_days} days · zone ${c.zone}`),
          Object.keys(c.labels || {}).length ? h('div', { class: 'labels' }, labelChips(c.labels)) : null),
        h('div', { class: 'row wrap' },
          h('button', { type: 'button', onclick: () => clear(extra, editForm(c, (cancelled) => {
            clear(extra);
            load();
            // the grid and other pages see a new name or labels at once
            if (!cancelled) ctx.refreshCaps().catch(() => {});
          }, sites)) }, 'Edit'),
          canGrant ? h('button', { type: 'button', onclick: async () => clear(extra, await grantsPanel(c)) }, 'Access') : null,
          c.source && c.source.type === 'push' ? h('button', { type: 'button', onclick: async (e) => {
            if (!await confirmDialog(`Rotate the ingest key of "${c.name}"? The camera must be given the new URL to reconnect.`, 'Rotate key')) return;
            busy(e.target, async () => {
              try {
                showIngest(await api.post(`/api/v1/cameras/${enc(c.id)}/rotate-key`), `New ingest URLs for "${c.name}"`);
              } catch (e2) {
                err.set(e2);
              }
            });
          } }, 'Rotate key') : null,
          h('button', { type: 'button', class: 'danger', onclick: async () => {
            if (!await confirmDialog(`Delete camera "${c.name}"? Its recordings will be removed too. This cannot be undone.`)) return;
            try {
              await api.del(`/api/v1/cameras/${enc(c.id)}`);
              load();
              ctx.refreshCaps().catch(() => {});
            } catch (e2) {
              err.set(e2);
            }
          } }, 'Delete'))),
      extra);
    return rowEl;
  }
  clear(main, h('h2', {}, 'Manage cameras'), err, list);
  load();
  return () => { stopped = true; };
}
