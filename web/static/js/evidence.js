// evidence.js: the camera page's export packages and bookmarks. An export
// is a job on the server (POST /cameras/{id}/exports): this card starts
// one for the chosen range, optionally as a signed evidence package and
// with a burned-in watermark (which re-encodes the video with ffmpeg on
// the server), shows the jobs' progress and offers the download when
// ready. Bookmarks are named notes at a moment or over a range, listed and
// searched here and marked on the timeline.
import { api, enc, q } from './api.js';
import { h, clear, errorBox, fmtTime, busy, confirmDialog } from './dom.js';

const pollEvery = 1500; // ms between looks at running jobs
const stateWords = { queued: 'waiting', running: 'being made', ready: 'ready', failed: 'failed' };

/**
 * exportCard returns the card of export packages: getRange() gives the
 * chosen [from, to] (Dates) or null. Its stop() ends the polling.
 */
export function exportCard(cam, getRange) {
  const err = errorBox();
  const evidence = h('input', { type: 'checkbox', id: 'export-evidence', checked: true });
  const watermark = h('input', { type: 'checkbox', id: 'export-watermark' });
  const wmNote = h('span', { class: 'muted small', id: 'export-watermark-note' }, 'burns the time and your name into the picture: the video is re-encoded (ffmpeg on the server)');
  const list = h('ul', { class: 'list', id: 'export-jobs' });
  let timer = 0;
  let stopped = false;
  const start = h('button', { type: 'button', id: 'export-package' }, 'Make export package');
  start.addEventListener('click', () => busy(start, async () => {
    err.set(null);
    const r = getRange();
    if (!r) return err.set('Choose when the export starts and ends.');
    try {
      await api.post(`/api/v1/cameras/${enc(cam.id)}/exports`, { from: r[0].toISOString(), to: r[1].toISOString(), evidence: evidence.checked, watermark: watermark.checked });
    } catch (e) {
      return err.set(e.status === 501 ? 'Watermarks need ffmpeg on the server, which is not installed there: export without one.' : e);
    }
    return refresh();
  }));

  async function refresh() {
    clearTimeout(timer);
    let res;
    try {
      res = await api.get(`/api/v1/cameras/${enc(cam.id)}/exports`);
    } catch (e) {
      return err.set(e);
    }
    if (stopped) return null;
    if (!res.watermark_available) {
      watermark.checked = false;
      watermark.disabled = true;
      wmNote.textContent = 'not available: the server has no ffmpeg';
    }
    const jobs = res.exports || [];
    clear(list, jobs.length ? jobs.map(jobItem) : h('li', { class: 'muted' }, 'No exports yet.'));
    if (jobs.some((j) => j.state === 'queued' || j.state === 'running')) timer = setTimeout(refresh, pollEvery);
    return null;
  }

  function jobItem(j) {
    const what = `${fmtTime(j.from)} – ${fmtTime(j.to)}${j.evidence ? ', signed evidence' : ', MP4'}${j.watermark ? ', watermarked' : ''}`;
    const bits = [h('span', {}, what), ' · ', h('span', { class: 'export-state', 'data-state': j.state }, stateWords[j.state] || j.state)];
    if (j.state === 'running' || j.state === 'queued') {
      bits.push(' ', h('progress', { max: 1, value: j.progress || 0, 'aria-label': 'progress' }), ` ${Math.round((j.progress || 0) * 100)} %`);
    }
    if (j.state === 'ready') {
      bits.push(' · ', h('a', { href: j.download_url, class: 'export-download', download: '' }, `Download (${Math.max(1, Math.round(j.size / 1048576))} MB)`));
      if (j.expires_at) bits.push(h('span', { class: 'muted small' }, ` kept until ${fmtTime(j.expires_at)}`));
    }
    if (j.state === 'failed') bits.push(': ', h('span', { class: 'error' }, j.error || 'failed'));
    return h('li', { 'data-id': j.id }, bits);
  }

  const el = h('div', { class: 'card', id: 'export-card' }, h('h3', {}, 'Export packages'),
    h('p', { class: 'muted small' }, 'Made on the server for the range above, also when you leave this page. A signed evidence package holds the MP4, a manifest and a signature that “camcloud evidence verify” checks.'),
    h('div', { class: 'row wrap' },
      h('label', { class: 'inline' }, evidence, ' Signed evidence package'),
      h('label', { class: 'inline' }, watermark, ' Watermark'), wmNote, start),
    err, list);
  refresh();
  return { el, refresh, stop: () => { stopped = true; clearTimeout(timer); } };
}

/**
 * bookmarksCard returns the card of bookmarks. o: playhead() the moment to
 * bookmark, range() the selected [from, to] or null, seek(t) plays from t,
 * changed(list) is told the bookmarks of the view (for the timeline),
 * view() the timeline's [from, to].
 */
export function bookmarksCard(cam, o) {
  const err = errorBox();
  const name = h('input', { type: 'text', id: 'bookmark-name', maxlength: 200, placeholder: 'What happened', required: true });
  const note = h('input', { type: 'text', id: 'bookmark-note', maxlength: 4000, placeholder: 'Note (optional)' });
  const ranged = h('input', { type: 'checkbox', id: 'bookmark-ranged' });
  const search = h('input', { type: 'search', id: 'bookmark-search', placeholder: 'Search bookmarks', maxlength: 200 });
  const list = h('ul', { class: 'list', id: 'bookmark-list' });
  const add = h('button', { type: 'button', id: 'bookmark-add' }, 'Bookmark');
  add.addEventListener('click', () => busy(add, async () => {
    err.set(null);
    const body = { name: name.value, note: note.value };
    const r = o.range();
    if (ranged.checked) {
      if (!r) return err.set('Select a range on the timeline first.');
      body.start = r[0].toISOString();
      body.end = r[1].toISOString();
    } else body.start = o.playhead().toISOString();
    try {
      await api.post(`/api/v1/cameras/${enc(cam.id)}/bookmarks`, body);
    } catch (e) {
      return err.set(e.status === 403 ? 'Viewers cannot add bookmarks.' : e);
    }
    name.value = '';
    note.value = '';
    return refresh();
  }));
  let searchTimer = 0;
  search.addEventListener('input', () => { clearTimeout(searchTimer); searchTimer = setTimeout(refresh, 300); });

  async function refresh() {
    let res;
    try {
      res = await api.get(`/api/v1/cameras/${enc(cam.id)}/bookmarks${q({ q: search.value.trim() })}`);
    } catch (e) {
      return err.set(e);
    }
    const bms = res.bookmarks || [];
    clear(list, bms.length ? bms.map(item) : h('li', { class: 'muted' }, search.value ? 'No bookmark matches.' : 'No bookmarks in the last 31 days.'));
    o.changed(bms);
    return null;
  }

  function item(b) {
    const play = h('button', { type: 'button', class: 'link', onclick: () => o.seek(new Date(b.start)) }, fmtTime(b.start) + (b.end ? ` – ${fmtTime(b.end)}` : ''));
    const del = h('button', { type: 'button', class: 'link danger', 'aria-label': `Delete bookmark ${b.name}` }, 'Delete');
    del.addEventListener('click', () => busy(del, async () => {
      if (!(await confirmDialog(`Delete the bookmark “${b.name}”?`))) return null;
      try {
        await api.del(`/api/v1/cameras/${enc(cam.id)}/bookmarks/${enc(b.id)}`);
      } catch (e) {
        return err.set(e.status === 403 ? 'Viewers cannot delete bookmarks.' : e);
      }
      return refresh();
    }));
    return h('li', { 'data-id': b.id, class: 'bookmark' }, play, ' ', h('strong', {}, b.name), b.note ? h('span', { class: 'muted' }, ` — ${b.note}`) : null,
      h('span', { class: 'muted small' }, ` by ${b.created_by}`), ' ', del);
  }

  const el = h('div', { class: 'card', id: 'bookmarks-card' }, h('h3', {}, 'Bookmarks'),
    h('div', { class: 'row wrap' }, name, note, h('label', { class: 'inline' }, ranged, ' over the selected range'), add,
      h('span', { class: 'muted small' }, 'at the playhead unless a range is chosen')),
    h('div', { class: 'row wrap' }, search), err, list);
  refresh();
  return { el, refresh };
}
