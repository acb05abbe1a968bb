// shares.js: share links. shareDialog makes a link of a camera's range
// (or live view) with an expiry, an optional password, a view limit,
// whether the clip may be downloaded and a note, and shows the link once;
// showShares is the page listing the links the user may see, with
// revocation.
import { api, enc, q } from './api.js';
import { h, clear, errorBox, fmtTime, busy, secretDialog, confirmDialog } from './dom.js';

const dayS = 86400;

/** shareDialog asks for a link's settings; range is {from, to} or null (live). */
export function shareDialog(cam, range) {
  const err = errorBox();
  const expiry = h('select', { name: 'expires_in', id: 'share-expiry' },
    [[3600, '1 hour'], [dayS, '1 day'], [7 * dayS, '7 days'], [30 * dayS, '30 days']].map(([v, l]) => h('option', { value: String(v), selected: v === 7 * dayS }, l)));
  const password = h('input', { type: 'password', name: 'password', id: 'share-password', autocomplete: 'new-password', placeholder: 'none' });
  const maxViews = h('input', { type: 'number', name: 'max_views', id: 'share-max-views', min: 0, max: 1000000, value: '0' });
  const download = h('input', { type: 'checkbox', name: 'allow_download', id: 'share-download-allowed' });
  const note = h('textarea', { name: 'note', id: 'share-note-input', maxlength: 500, rows: 2 });
  const what = range ? `${cam.name}, ${fmtTime(range.from)} – ${fmtTime(range.to)}` : `${cam.name}, live`;
  const submit = h('button', { type: 'submit', class: 'primary', id: 'share-create' }, 'Create link');
  const dlg = h('dialog', { class: 'share-dialog' });
  const close = () => { dlg.close(); dlg.remove(); };
  const form = h('form', {
    onsubmit: (e) => {
      e.preventDefault();
      busy(submit, async () => {
        err.set(null);
        const body = { expires_in: Number(expiry.value), max_views: Number(maxViews.value) || 0, note: note.value };
        if (password.value) body.password = password.value;
        if (range) Object.assign(body, { from: range.from.toISOString(), to: range.to.toISOString(), allow_download: download.checked });
        else body.live = true;
        try {
          const res = await api.post(`/api/v1/cameras/${enc(cam.id)}/shares`, body);
          close();
          secretDialog('Share link created', 'Copy the link now: it is shown only once. Anyone who has it can watch until it expires or you revoke it (Shared links).',
            [['Link', res.url]]).dataset.shareUrl = res.url;
        } catch (e2) {
          err.set(e2);
        }
      });
    },
  },
  h('h3', {}, 'Share a link'),
  h('p', { class: 'muted' }, what),
  h('label', {}, 'Expires after', expiry),
  h('label', {}, 'Password (optional)', password),
  h('label', {}, 'Opened at most (0: no limit)', maxViews),
  range ? h('label', { class: 'inline' }, download, ' Allow downloading the clip') : null,
  h('label', {}, 'Note', note),
  err,
  h('div', { class: 'row end' }, h('button', { type: 'button', onclick: close }, 'Cancel'), submit));
  dlg.append(form);
  dlg.addEventListener('cancel', close);
  document.body.append(dlg);
  dlg.showModal();
  return dlg;
}

const stateWords = { active: 'active', expired: 'expired', revoked: 'revoked', used_up: 'view limit reached' };

/** showShares renders the shared-links page. */
export function showShares(main) {
  const err = errorBox();
  const body = h('tbody');
  clear(main, h('div', { class: 'card' }, h('h2', {}, 'Shared links'),
    h('p', { class: 'muted' }, 'Links to recordings and live views that people without an account can open. Revoking one stops it at once.'),
    err, h('table', { class: 'shares-table', id: 'shares-table' },
      h('thead', {}, h('tr', {}, ['Camera', 'What', 'Shared by', 'Expires', 'Views', 'State', ''].map((t) => h('th', {}, t)))), body)));
  async function load() {
    err.set(null);
    try {
      const res = await api.get(`/api/v1/shares${q({})}`);
      clear(body, (res.shares || []).map(row));
      if (!(res.shares || []).length) clear(body, h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'No share links yet: make one from a camera page.')));
    } catch (e) {
      err.set(e);
    }
  }
  function row(s) {
    const what = s.live ? 'live view' : `${fmtTime(s.from)} – ${fmtTime(s.to)}`;
    const extras = [s.has_password ? 'password' : '', s.allow_download ? 'download' : ''].filter(Boolean).join(', ');
    const revoke = s.state === 'active' || s.state === 'used_up'
      ? h('button', { type: 'button', class: 'danger', 'data-revoke': s.id, onclick: async (e) => {
        if (!(await confirmDialog(`Revoke this link to ${s.camera_name}? Whoever has it can no longer watch.`, 'Revoke'))) return;
        await busy(e.target, async () => {
          try {
            await api.del(`/api/v1/shares/${enc(s.id)}`);
            await load();
          } catch (e2) {
            err.set(e2);
          }
        });
      } }, 'Revoke') : null;
    return h('tr', { 'data-share': s.id },
      h('td', {}, s.camera_name),
      h('td', {}, what, extras ? h('span', { class: 'muted' }, ` (${extras})`) : null, s.note ? h('div', { class: 'muted small' }, s.note) : null),
      h('td', {}, s.shared_by),
      h('td', {}, fmtTime(s.expires_at)),
      h('td', {}, s.max_views ? `${s.views} / ${s.max_views}` : String(s.views)),
      h('td', { class: `state-${s.state}`, 'data-state': s.state }, stateWords[s.state] || s.state),
      h('td', {}, revoke));
  }
  load();
}
