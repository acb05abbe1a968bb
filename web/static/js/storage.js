// storage.js: an organisation's storage: what its recordings take, per
// camera and in all, against its quota, with the oldest recording each
// camera still has; owners and admins set the quota here. When the quota
// is reached the oldest recordings without a legal hold are deleted;
// recording never stops.
import { api, enc } from './api.js';
import { h, clear, errorBox, fmtTime, busy } from './dom.js';

const units = [['TB', 1e12], ['GB', 1e9], ['MB', 1e6], ['kB', 1e3]];

/** fmtBytes formats a byte count in decimal units. */
export function fmtBytes(n) {
  for (const [u, v] of units) if (n >= v) return `${(n / v).toFixed(n >= 10 * v ? 0 : 1)} ${u}`;
  return `${n} B`;
}

/** storageCard returns the card of org's storage; it loads itself. */
export function storageCard(org) {
  const err = errorBox();
  const body = h('div', { id: 'storage' }, h('p', { class: 'muted' }, 'Loading storage…'));
  const quotaIn = h('input', { type: 'number', id: 'quota-gb', min: 0, step: 'any', placeholder: 'no quota', 'aria-label': 'Storage quota in GB' });
  const save = h('button', { type: 'submit', id: 'quota-save' }, 'Set quota');

  async function load() {
    let st;
    try {
      st = await api.get(`/api/v1/orgs/${enc(org)}/storage`);
    } catch (e) {
      err.set(e);
      return;
    }
    const quota = st.storage_quota_bytes || 0;
    quotaIn.value = quota ? String(quota / 1e9) : '';
    const bar = h('div', { class: `storage-bar${quota && st.used_bytes > quota ? ' over' : ''}` }, h('div'));
    bar.firstChild.style.width = quota ? `${Math.min(100, (st.used_bytes / quota) * 100)}%` : '0';
    const rows = (st.cameras || []).map((c) => h('tr', { 'data-camera': c.id },
      h('td', {}, h('a', { href: `#/camera/${c.id}` }, c.name)),
      h('td', { class: 'num' }, c.unavailable ? 'unavailable' : fmtBytes(c.used_bytes)),
      h('td', {}, c.oldest_recording ? fmtTime(c.oldest_recording) : '—'),
      h('td', { class: 'num' }, c.holds ? String(c.holds) : '')));
    clear(body,
      h('p', { id: 'storage-used' }, `${fmtBytes(st.used_bytes)} used`, quota ? ` of ${fmtBytes(quota)} (quota)` : ' (no quota)'),
      quota ? bar : null,
      h('table', { id: 'storage-cameras' }, h('thead', {}, h('tr', {}, h('th', {}, 'Camera'), h('th', {}, 'Used'), h('th', {}, 'Oldest recording kept'), h('th', {}, 'Holds'))), h('tbody', {}, rows)));
  }

  const form = h('form', { class: 'row wrap', onsubmit: (ev) => {
    ev.preventDefault();
    busy(save, async () => {
      err.set(null);
      const gb = quotaIn.value === '' ? 0 : Number(quotaIn.value);
      if (!(gb >= 0)) return err.set('The quota is a number of GB, 0 or empty for none.');
      try {
        await api.patch(`/api/v1/orgs/${enc(org)}`, { storage_quota_bytes: Math.round(gb * 1e9) });
        load();
      } catch (e) {
        err.set(e);
      }
      return null;
    });
  } }, h('label', { class: 'inline' }, 'Quota (GB) ', quotaIn), save);
  load();
  return h('div', { class: 'card scroll', id: 'storage-card' }, h('h3', {}, 'Storage'),
    h('p', { class: 'muted small' }, 'When the quota is reached, the oldest recordings without a legal hold are deleted; recording never stops.'),
    body, form, err);
}
