// holds.js: a camera's legal holds: listed (with range, reason and who
// placed them), shown on the timeline, placed over a range (the one
// selected on the timeline, when there is one) and released. The server
// decides who may: managers of the camera place holds, owners and admins
// release them (docs/api.md, "Legal holds and storage").
import { api, enc } from './api.js';
import { h, clear, errorBox, fmtTime, localInput, confirmDialog, busy } from './dom.js';

/**
 * holdsCard returns the card of cam's holds and load(), which reads them
 * again and hands them to onHolds (the timeline). range() gives the range
 * selected on the page ([from, to] Dates) or null.
 */
export function holdsCard(cam, { onHolds, range }) {
  const perms = cam.permissions || [];
  const err = errorBox();
  const list = h('ul', { class: 'holds-list', id: 'holds' });
  const path = `/api/v1/cameras/${enc(cam.id)}/holds`;

  async function load() {
    let res;
    try {
      res = await api.get(path);
    } catch (e) {
      err.set(`Legal holds cannot be loaded: ${e.message}`);
      return;
    }
    const holds = res.holds || [];
    onHolds(holds);
    if (!holds.length) {
      clear(list, h('li', { class: 'muted' }, 'No legal holds: recordings follow the retention period and the storage quota.'));
      return;
    }
    clear(list, holds.map((x) => {
      const rel = h('button', { type: 'button', class: 'danger', 'data-release': x.id }, 'Release');
      rel.addEventListener('click', () => busy(rel, async () => {
        if (!await confirmDialog(`Release the hold "${x.reason}"? Retention may then delete these recordings.`, 'Release')) return;
        err.set(null);
        try {
          await api.del(`${path}/${enc(x.id)}`);
          load();
        } catch (e) {
          err.set(e.status === 403 ? 'Only owners and admins of the organisation may release a hold.' : e);
        }
      }));
      return h('li', { 'data-hold': x.id },
        h('strong', {}, `${fmtTime(x.from)} – ${fmtTime(x.to)}`), ' ', x.reason,
        h('span', { class: 'muted small' }, ` · placed by ${x.created_by_email || x.created_by} on ${fmtTime(x.created_at)} `),
        perms.includes('manage') ? rel : null);
    }));
  }

  const parts = [h('h3', {}, 'Legal holds'), h('p', { class: 'muted small' }, 'Held recordings are kept past the retention period and the storage quota until released; a camera with holds cannot be deleted.'), list, err];
  if (perms.includes('manage')) {
    const now = new Date();
    const fromIn = h('input', { type: 'datetime-local', step: 1, id: 'hold-from', value: localInput(new Date(now.getTime() - 3600000)) });
    const toIn = h('input', { type: 'datetime-local', step: 1, id: 'hold-to', value: localInput(now) });
    const reason = h('input', { type: 'text', id: 'hold-reason', maxlength: 500, required: true, placeholder: 'e.g. incident 42, police request' });
    const useSel = h('button', { type: 'button', onclick: () => {
      const r = range();
      if (r) {
        fromIn.value = localInput(r[0]);
        toIn.value = localInput(r[1]);
      }
    } }, 'Use the selected range');
    const place = h('button', { type: 'submit', class: 'primary', id: 'place-hold' }, 'Place hold');
    const form = h('form', { onsubmit: (ev) => {
      ev.preventDefault();
      busy(place, async () => {
        err.set(null);
        const from = new Date(fromIn.value);
        const to = new Date(toIn.value);
        if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || to <= from) return err.set('Choose a range whose end is after its start.');
        try {
          await api.post(path, { from: from.toISOString(), to: to.toISOString(), reason: reason.value });
          reason.value = '';
          load();
        } catch (e) {
          err.set(e);
        }
        return null;
      });
    } }, h('div', { class: 'row wrap' }, h('label', {}, 'From', fromIn), h('label', {}, 'To', toIn), h('label', {}, 'Reason', reason), useSel, place));
    parts.push(form);
  }
  return { el: h('div', { class: 'card', id: 'holds-card' }, parts), load };
}
