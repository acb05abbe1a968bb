// camera.js: one camera: live view, why it is offline or not recorded,
// the timeline of recordings for a day with zoom and a date picker,
// playback from a clicked instant at 0.5x to 8x with frame steps and jumps
// between recorded spans, back to live, clip export of a chosen range,
// export packages (evidence.js), bookmarks and the image at the playhead.
// The timeline marks the camera's events, bookmarks and its legal holds
// (placed and released in a card of their own); the
// address may name a moment to play from (#/camera/ID?at=MS, from the
// events page).
import { api, enc, q } from './api.js';
import { h, clear, errorBox, fmtClock, fmtTime, localInput, localDate, busy } from './dom.js';
import { LivePlayer, VodPlayer } from './player.js';
import { Timeline, zooms } from './timeline.js';
import { statusBadge, statusText } from './status.js';
import { transport } from './controls.js';
import { exportCard, bookmarksCard } from './evidence.js';
import { holdsCard } from './holds.js';
import { shareDialog } from './shares.js';

const hour = 3600000;
const day = 24 * hour;
const maxClip = 2 * hour; // the server's default max_clip; it has the last word
const refreshEvery = 10000; // ms between reloads of the camera's status
const spanLookup = 7 * day; // how far the previous/next recording is searched

function zoomLabel(ms) {
  return ms >= hour ? `${ms / hour} h` : `${ms / 60000} min`;
}

/** showCamera renders the camera page; it returns a function that stops it. */
export function showCamera(main, ctx) {
  const id = ctx.params[0];
  const err = errorBox();
  clear(main, h('p', { class: 'muted' }, 'Loading camera…'));
  let stop = () => {};
  api.get(`/api/v1/cameras/${enc(id)}`).then((cam) => {
    stop = render(main, cam, err, ctx.params[1] ? new Date(Number(ctx.params[1])) : null);
  }).catch((e) => {
    clear(main, h('div', { class: 'card' }, h('h2', {}, 'Camera not available'), h('p', { class: 'error' }, e.message), h('a', { href: '#/' }, 'Back to cameras')));
  });
  return () => stop();
}

/** statusLine describes the camera's state under its name. */
function statusLine(cam) {
  const st = cam.status || {};
  const why = statusText(cam).long;
  if (!st.online) return why;
  const parts = [st.codec, st.bitrate_kbps ? `${st.bitrate_kbps} kb/s` : ''].filter(Boolean).join(' · ');
  return [parts, why].filter(Boolean).join(' · ');
}

function render(main, cam, err, startAt) {
  const perms = cam.permissions || [];
  const canExport = perms.includes('export');
  const video = h('video', { muted: true, playsinline: true, autoplay: true, controls: true, id: 'player' });
  video.muted = true;
  const label = h('span', { class: 'mode-label', id: 'mode-label' }, 'LIVE');
  const stage = h('div', { class: 'stage', id: 'stage', 'data-mode': 'live' }, video, label);
  const status = h('span', { class: 'player-status', id: 'player-status' });
  const backLive = h('button', { type: 'button', id: 'back-live', hidden: true, onclick: () => goLive() }, '● Back to live');
  const badge = h('span', {}, statusBadge(cam));
  const camStatus = h('p', { class: 'muted small cam-status', id: 'camera-status' }, statusLine(cam));
  let mode = 'live';
  let timer = 0;
  let spanTimer = 0;
  let camTimer = 0;
  let stopped = false;

  const live = new LivePlayer(video, cam.id, ({ mode: m, error }) => {
    stage.dataset.live = m;
    status.textContent = error ? error.message : m === 'webrtc' ? 'Live (WebRTC)' : m === 'hls' ? 'Live (HLS)' : m === 'connecting' ? 'Connecting…' : '';
  });
  const vod = new VodPlayer(video, cam.id, ({ mode: m, error }) => {
    stage.dataset.vod = m;
    status.textContent = error ? error.message : m === 'loading' ? 'Loading recording…' : '';
  });

  video.addEventListener('ended', () => {
    if (mode === 'vod') status.textContent = 'End of what is recorded so far. Click the timeline, or go back to live.';
  });

  const ctl = transport({
    toggle: () => {
      if (mode !== 'vod') return;
      if (video.paused) video.play().catch(() => {});
      else video.pause();
    },
    step: (dir) => {
      if (mode === 'vod') vod.step(dir);
    },
    span: (dir) => jumpSpan(dir),
    rate: (r) => vod.setRate(r),
  });
  const sync = () => ctl.setPaused(video.paused);
  video.addEventListener('play', sync);
  video.addEventListener('pause', sync);

  function goLive() {
    mode = 'live';
    stage.dataset.mode = 'live';
    delete stage.dataset.playhead;
    backLive.hidden = true;
    label.textContent = 'LIVE';
    ctl.setEnabled(false);
    vod.stop();
    if (!perms.includes('live')) {
      status.textContent = 'You may not watch this camera live.';
      return;
    }
    if (!(cam.status && cam.status.online)) {
      status.textContent = 'The camera is offline.';
      return;
    }
    live.start();
  }

  function playAt(at) {
    if (!perms.includes('playback')) return;
    const now = Date.now();
    if (at.getTime() > now) {
      goLive();
      return;
    }
    mode = 'vod';
    stage.dataset.mode = 'vod';
    backLive.hidden = false;
    ctl.setEnabled(true);
    live.stop();
    const to = new Date(Math.max(Math.min(at.getTime() + hour, now), at.getTime() + 10000));
    stage.dataset.target = String(at.getTime());
    vod.play(at, to);
    if (tl && (at.getTime() < tl.start || at.getTime() > tl.end)) {
      const len = tl.end - tl.start;
      tl.setView(at.getTime() - len / 4, at.getTime() + (3 * len) / 4);
      loadSpans();
    }
  }

  // jumpSpan moves between recorded spans as a player moves between
  // tracks: back (dir -1) to the start of the span at the playhead, or to
  // the span before when the playhead is within 3 s of that start (live,
  // the span going on is the one at the playhead); forward (dir 1) to the
  // start of the next span, or live after the last one.
  async function jumpSpan(dir) {
    const live = mode !== 'vod';
    const at = live ? Date.now() : (vod.wallTime() || new Date(Number(stage.dataset.target))).getTime();
    const now = Date.now();
    const from = dir < 0 ? at - spanLookup : at - 2000;
    const to = dir < 0 ? at + 2000 : Math.min(at + spanLookup, now + 60000);
    let spans;
    try {
      spans = ((await api.get(`/api/v1/cameras/${enc(cam.id)}/recordings${q({ from: new Date(from), to: new Date(to) })}`)).spans || [])
        .map((sp) => [new Date(sp.start).getTime(), new Date(sp.end).getTime()]);
    } catch (e) {
      status.textContent = `Recordings cannot be loaded: ${e.message}`;
      return;
    }
    // the span at the playhead (1 s either side: the playhead of a span's
    // first frame may read a little before its indexed start; live, the
    // newest minute may not be indexed yet)
    const started = spans.filter(([s0]) => s0 - 1000 <= at);
    const last = started[started.length - 1];
    const cur = last && at <= last[1] + (live ? 60000 : 1000) ? last : undefined;
    if (dir < 0) {
      if (cur && at - cur[0] > 3000) {
        playAt(new Date(cur[0]));
        return;
      }
      const edge = cur ? cur[0] : at;
      const before = spans.filter(([s0]) => s0 < edge - 1000);
      if (!before.length) {
        status.textContent = 'No earlier recording in the last 7 days.';
        return;
      }
      playAt(new Date(before[before.length - 1][0]));
      return;
    }
    const edge = cur ? cur[1] : at;
    const after = spans.find(([s0]) => s0 > edge);
    if (after) playAt(new Date(after[0]));
    else if (cur && cur[1] > now - 30000) goLive();
    else status.textContent = 'No later recording.';
  }

  // The playhead: the recording's wall time, or now when live.
  function tick() {
    const wall = mode === 'vod' ? vod.wallTime() : new Date();
    if (mode === 'vod' && wall) {
      const rate = video.playbackRate;
      label.textContent = fmtTime(wall) + (rate !== 1 ? ` · ${rate}×` : '') + (video.paused ? ' · paused' : '');
      stage.dataset.playhead = String(wall.getTime());
      syncLink.href = `#/sync/${cam.id}?at=${wall.getTime()}`;
    }
    if (tl) tl.setPlayhead(wall);
    if (tl) playheadText.textContent = wall ? fmtClock(wall) : '';
  }

  const syncLink = h('a', { href: `#/sync/${cam.id}`, id: 'sync-link', title: 'Play this camera and up to three others at the same instant' }, 'Play with other cameras');
  const parts = [
    h('div', { class: 'row between wrap' },
      h('div', { class: 'row wrap' }, h('a', { href: '#/', class: 'back' }, '← Cameras'), h('h2', { id: 'camera-name' }, cam.name), badge),
      h('div', { class: 'row wrap' },
        perms.includes('playback') ? syncLink : null,
        perms.includes('live') ? h('button', { type: 'button', id: 'share-live', onclick: () => shareDialog(cam, null) }, 'Share live view') : null,
        perms.includes('manage') ? h('a', { href: '#/manage/cameras', id: 'camera-settings' }, 'Settings') : null)),
    camStatus, err, stage, h('div', { class: 'row wrap' }, backLive, status),
  ];

  let tl = null;
  const playheadText = h('span', { class: 'mono' });
  if (perms.includes('playback')) {
    const dateInput = h('input', { type: 'date', id: 'tl-date', value: localDate(new Date()), max: localDate(new Date()) });
    tl = new Timeline({
      onSeek: (t) => playAt(t),
      onSelect: canExport ? (a, b) => setRange(a, b) : null,
      onView: () => loadSpans(),
    });
    const end = Date.now() + 5 * 60000;
    tl.setView(end - hour, end);
    dateInput.addEventListener('change', () => {
      if (!dateInput.value) return;
      const [y, m, d] = dateInput.value.split('-').map(Number);
      const start = new Date(y, m - 1, d).getTime();
      tl.setView(start, start + day);
      loadSpans();
    });
    const zoomButtons = zooms.map((z) => h('button', { type: 'button', 'data-zoom': String(z), onclick: () => tl.zoomTo(z) }, zoomLabel(z)));
    ctl.setEnabled(false);
    parts.push(h('div', { class: 'card' },
      ctl.el,
      h('div', { class: 'row wrap between' },
        h('div', { class: 'row wrap' },
          h('label', { class: 'inline' }, 'Day ', dateInput),
          h('button', { type: 'button', 'aria-label': 'Earlier', onclick: () => tl.pan(-0.5) }, '◀'),
          h('button', { type: 'button', 'aria-label': 'Later', onclick: () => tl.pan(0.5) }, '▶'),
          h('button', { type: 'button', onclick: () => { const e2 = Date.now() + 60000; tl.setView(e2 - (tl.end - tl.start), e2); loadSpans(); } }, 'Now')),
        h('div', { class: 'row wrap zoom', role: 'group', 'aria-label': 'Zoom' }, zoomButtons)),
      tl.el,
      h('p', { class: 'muted small', id: 'timeline-hint' }, canExport ? 'Click the timeline to play from that time; drag to select a range to export. Playhead: ' : 'Click the timeline to play from that time. Playhead: ', playheadText)));
  }

  // Legal holds: on the timeline, listed, placed and released.
  const holds = tl ? holdsCard(cam, { onHolds: (list) => tl.setHolds(list), range: () => (tl.range ? [new Date(tl.range[0]), new Date(tl.range[1])] : null) }) : null;
  if (holds) parts.push(holds.el);

  // Clip export and image at the playhead.
  const fromIn = h('input', { type: 'datetime-local', step: 1, id: 'clip-from' });
  const toIn = h('input', { type: 'datetime-local', step: 1, id: 'clip-to' });
  const exportErr = errorBox();
  let pkgCard = null; // the export packages card
  let bookmarks = []; // shown on the timeline beside the events
  let events = [];
  function showMarkers() {
    if (!tl) return;
    tl.setEvents(events.concat(bookmarks.map((b) => ({ id: b.id, type: 'bookmark', time: b.start, end: b.end, label: `Bookmark “${b.name}”` }))));
  }
  function setRange(a, b) {
    fromIn.value = localInput(a);
    toIn.value = localInput(b);
    if (tl) tl.setRange(a, b);
  }
  function playheadOrNow() {
    return (mode === 'vod' && vod.wallTime()) || new Date();
  }
  if (canExport) {
    const now = new Date();
    setRange(new Date(now.getTime() - 60000), now);
    for (const inp of [fromIn, toIn]) inp.addEventListener('change', () => { if (tl && fromIn.value && toIn.value) tl.setRange(new Date(fromIn.value), new Date(toIn.value)); });
    const dl = h('button', { type: 'button', class: 'primary', id: 'export-clip' }, 'Download clip');
    dl.addEventListener('click', () => busy(dl, () => exportClip(cam, fromIn.value, toIn.value, exportErr)));
    parts.push(h('div', { class: 'card' }, h('h3', {}, 'Export a clip'),
      h('div', { class: 'row wrap' },
        h('label', {}, 'From', fromIn),
        h('label', {}, 'To', toIn),
        h('button', { type: 'button', onclick: () => setRange(playheadOrNow(), toIn.value ? new Date(toIn.value) : new Date()) }, 'Start at playhead'),
        h('button', { type: 'button', onclick: () => setRange(fromIn.value ? new Date(fromIn.value) : new Date(Date.now() - 60000), playheadOrNow()) }, 'End at playhead'),
        dl,
        h('button', { type: 'button', id: 'share-range', onclick: () => {
          const from = new Date(fromIn.value);
          const to = new Date(toIn.value);
          if (!fromIn.value || !toIn.value || !(to > from)) return exportErr.set('Choose when the shared range starts and ends.');
          exportErr.set(null);
          shareDialog(cam, { from, to });
        } }, 'Share link…')),
      exportErr));
    const chosen = () => {
      const a = new Date(fromIn.value);
      const b = new Date(toIn.value);
      return fromIn.value && toIn.value && b > a ? [a, b] : null;
    };
    pkgCard = exportCard(cam, chosen);
    parts.push(pkgCard.el);
  }
  if (perms.includes('playback')) {
    const bm = bookmarksCard(cam, {
      playhead: playheadOrNow,
      range: () => (canExport && fromIn.value && toIn.value ? [new Date(fromIn.value), new Date(toIn.value)] : null),
      seek: (t) => playAt(t),
      changed: (list) => {
        bookmarks = list;
        showMarkers();
      },
    });
    parts.push(bm.el);
  }
  if (perms.includes('playback')) {
    const img = h('img', { id: 'snapshot', alt: 'Image at the playhead', hidden: true });
    const imgErr = errorBox();
    let objURL = '';
    const btn = h('button', { type: 'button', id: 'image-button' }, 'Image at playhead');
    btn.addEventListener('click', () => busy(btn, async () => {
      imgErr.set(null);
      const at = playheadOrNow();
      try {
        const res = await fetch(`/api/v1/cameras/${enc(cam.id)}/image${q({ at })}`, { credentials: 'same-origin' });
        if (!res.ok) {
          const body = await res.json().catch(() => null);
          throw new Error((body && body.error && body.error.message) || `No image (status ${res.status}).`);
        }
        if (objURL) URL.revokeObjectURL(objURL);
        objURL = URL.createObjectURL(await res.blob());
        img.src = objURL;
        img.hidden = false;
        img.title = `Keyframe at ${fmtTime(res.headers.get('X-Camcloud-Image-Time'))}`;
      } catch (e) {
        imgErr.set(e.status === 501 || /ffmpeg/i.test(e.message) ? 'Images need ffmpeg on the server.' : e);
      }
    }));
    parts.push(h('div', { class: 'card' }, h('div', { class: 'row' }, btn), imgErr, img));
  }
  clear(main, parts);

  async function loadSpans() {
    if (!tl) return;
    clearTimeout(spanTimer);
    const from = new Date(tl.start);
    const to = new Date(Math.min(tl.end, Date.now() + 60000));
    if (to > from) {
      try {
        const [res, evs] = await Promise.all([
          api.get(`/api/v1/cameras/${enc(cam.id)}/recordings${q({ from, to })}`),
          api.get(`/api/v1/cameras/${enc(cam.id)}/events${q({ from: new Date(from.getTime() - hour), to, limit: 1000 })}`).catch(() => null),
        ]);
        if (stopped) return;
        tl.setSpans(res.spans || []);
        if (evs) {
          events = evs.events || [];
          showMarkers();
        }
        err.set(null);
      } catch (e) {
        err.set(`Recordings cannot be loaded: ${e.message}`);
      }
    } else tl.setSpans([]);
    // keep the recent end of the timeline fresh while it is in view
    if (!stopped && tl.end > Date.now() - 60000) spanTimer = setTimeout(loadSpans, 10000);
  }

  // refreshCamera keeps the badge and the status line current, and starts
  // the live view when the camera comes online.
  async function refreshCamera() {
    try {
      const c = await api.get(`/api/v1/cameras/${enc(cam.id)}`);
      if (stopped) return;
      const wasOnline = !!(cam.status && cam.status.online);
      cam = c;
      clear(badge, statusBadge(cam));
      camStatus.textContent = statusLine(cam);
      if (mode === 'live' && !wasOnline && cam.status && cam.status.online) goLive();
    } catch {
      /* the next refresh tries again; the page's other calls show errors */
    }
    if (!stopped) camTimer = setTimeout(refreshCamera, refreshEvery);
  }

  const onKey = (e) => {
    if (ctl.keys(e)) e.preventDefault();
  };
  document.addEventListener('keydown', onKey);
  goLive();
  if (startAt && !Number.isNaN(startAt.getTime())) playAt(startAt);
  loadSpans();
  if (holds) holds.load();
  // the camera's new events: markers at once, the status on (dis)connects
  const onEvent = (e) => {
    const ev = e.detail;
    if (stopped || ev.camera_id !== cam.id) return;
    clearTimeout(spanTimer);
    spanTimer = setTimeout(loadSpans, 500);
    if (ev.type === 'export.ready' && pkgCard) pkgCard.refresh();
    if (ev.type === 'camera.online' || ev.type === 'camera.offline') {
      clearTimeout(camTimer);
      camTimer = setTimeout(refreshCamera, 300);
    }
  };
  window.addEventListener('camcloud:event', onEvent);
  timer = setInterval(tick, 250);
  camTimer = setTimeout(refreshCamera, refreshEvery);
  return () => {
    stopped = true;
    clearInterval(timer);
    clearTimeout(spanTimer);
    clearTimeout(camTimer);
    document.removeEventListener('keydown', onKey);
    window.removeEventListener('camcloud:event', onEvent);
    live.stop();
    vod.stop();
    if (pkgCard) pkgCard.stop();
  };
}

/** exportClip checks the range, then lets the browser download the MP4. */
async function exportClip(cam, fromV, toV, err) {
  err.set(null);
  const from = new Date(fromV);
  const to = new Date(toV);
  if (!fromV || !toV || Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) return err.set('Choose when the clip starts and ends.');
  if (to <= from) return err.set('The end must be after the start.');
  if (to - from > maxClip) return err.set('A clip can be at most 2 hours long.');
  try {
    const res = await api.get(`/api/v1/cameras/${enc(cam.id)}/recordings${q({ from, to })}`);
    if (!(res.spans || []).length) return err.set('Nothing was recorded in this range.');
  } catch (e) {
    return err.set(e);
  }
  const a = h('a', { href: `/api/v1/cameras/${enc(cam.id)}/clip.mp4${q({ from, to })}`, download: `${cam.name.replace(/[^\w.-]+/g, '_')}.mp4` });
  document.body.append(a);
  a.click();
  a.remove();
  return null;
}
