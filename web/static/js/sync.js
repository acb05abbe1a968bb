// sync.js: synchronised playback of up to four cameras. One clock drives
// every player: a click on the shared timeline (one lane per camera) moves
// them all to that instant, speed, pause and frame steps act on all, and
// each player is kept on the clock (nudged by its rate when it drifts a
// little, moved when it drifts far; paused where its camera recorded
// nothing; all wait while one of them buffers).
import { api, enc, q } from './api.js';
import { h, clear, errorBox, fmtTime } from './dom.js';
import { VodPlayer } from './player.js';
import { Timeline, zooms } from './timeline.js';
import { transport } from './controls.js';

/** maxCameras is how many cameras play together. */
export const maxCameras = 4;
const hour = 3600000;
const windowLen = hour; // ms of recording each player loads at a time
const tickMs = 200;
const reloadLag = 20000; // ms the clock must be behind now to load on from it

/** Clock is the shared wall clock: an instant that advances at a rate unless paused. */
class Clock {
  constructor(t) {
    this.base = t;
    this.at = performance.now();
    this.rate = 1;
    this.paused = true;
  }

  now() {
    return this.paused ? this.base : this.base + (performance.now() - this.at) * this.rate;
  }

  set(t) {
    this.base = t;
    this.at = performance.now();
  }

  setRate(r) {
    this.set(this.now());
    this.rate = r;
  }

  setPaused(p) {
    this.set(this.now());
    this.paused = p;
  }
}

/** showSync renders the synchronised playback page; it returns a function that stops it. */
export function showSync(main, ctx) {
  const ids = (ctx.params[0] || '').split(',').filter(Boolean).slice(0, maxCameras);
  const atParam = Number(ctx.params[1]);
  const err = errorBox();
  const grid = h('div', { class: 'sync-grid', id: 'sync-grid' });
  const picker = h('select', { id: 'sync-pick', 'aria-label': 'Camera to add' });
  const add = h('button', { type: 'button', id: 'sync-add', onclick: () => addCamera(picker.value) }, 'Add');
  const clockText = h('span', { class: 'mono', id: 'sync-clock' });
  const note = h('span', { class: 'player-status', id: 'sync-status' });
  const tlBox = h('div');
  const root = h('div', { id: 'sync' });
  let all = [];
  let cells = [];
  let tl = null;
  let clock = new Clock(Number.isFinite(atParam) && atParam > 0 ? atParam : Date.now() - 2 * 60000);
  let windowEnd = 0;
  let loading = 0; // players still loading since the last seek
  let wantPlay = true;
  let stopped = false;
  let timer = 0;
  let spanTimer = 0;

  const ctl = transport({
    toggle: () => {
      wantPlay = clock.paused;
      clock.setPaused(!wantPlay);
      ctl.setPaused(!wantPlay);
    },
    step: (dir) => {
      wantPlay = false;
      clock.setPaused(true);
      ctl.setPaused(true);
      const first = cells.find((c) => c.ready);
      clock.set(clock.now() + dir * (first ? first.vod.frameDuration() : 0.04) * 1000);
    },
    rate: (r) => {
      clock.setRate(r);
      for (const c of cells) c.vod.setRate(r);
    },
  });
  ctl.setPaused(false);

  clear(main, h('div', { class: 'row between wrap' },
    h('div', { class: 'row wrap' }, h('a', { href: '#/', class: 'back' }, '← Cameras'), h('h2', {}, 'Synchronised playback')),
    h('div', { class: 'row' }, picker, add)),
  err, root);
  clear(root, grid, h('div', { class: 'card' }, h('div', { class: 'row wrap between' }, ctl.el, h('span', {}, 'Clock: ', clockText)), tlBox,
    h('div', { class: 'row wrap between' }, note, h('div', { class: 'row wrap zoom', role: 'group', 'aria-label': 'Zoom' },
      zooms.map((z) => h('button', { type: 'button', 'data-zoom': String(z), onclick: () => tl && tl.zoomTo(z) }, z >= hour ? `${z / hour} h` : `${z / 60000} min`))))));

  function cell(cam, i) {
    const video = h('video', { muted: true, playsinline: true, autoplay: false });
    video.muted = true;
    const state = h('span', { class: 'tile-note' });
    const el = h('div', { class: 'sync-cell', 'data-camera': cam.id },
      h('div', { class: 'frame' }, video, state),
      h('div', { class: 'tile-foot' }, h('span', { class: 'name' }, h('span', { class: `lane-dot lane-${i}` }), cam.name),
        h('button', { type: 'button', class: 'link', 'aria-label': `Remove ${cam.name}`, onclick: () => removeCamera(cam.id) }, 'Remove')));
    const c = { cam, el, video, state, ready: false, failed: false };
    c.vod = new VodPlayer(video, cam.id, ({ mode, error }) => {
      if (mode === 'playing') c.ready = true;
      if (mode === 'off') c.failed = true;
      if (mode === 'playing' || mode === 'off') loading = Math.max(0, loading - 1);
      state.textContent = error ? error.message : mode === 'loading' ? 'loading…' : '';
    });
    c.vod.paused = true;
    c.vod.setRate(clock.rate);
    return c;
  }

  // seek loads every player at t; the clock waits until they are ready.
  function seek(t) {
    const now = Date.now();
    t = Math.min(t, now - 1000);
    clock.set(t);
    clock.setPaused(true);
    windowEnd = Math.min(t + windowLen, now);
    loading = cells.length;
    for (const c of cells) {
      c.ready = false;
      c.failed = false;
      c.vod.play(new Date(t), new Date(Math.max(windowEnd, t + 10000)));
    }
    if (tl && (t < tl.start || t > tl.end)) {
      const len = tl.end - tl.start;
      tl.setView(t - len / 4, t + (3 * len) / 4);
      loadSpans();
    }
    root.dataset.target = String(t);
  }

  // tick keeps each player on the clock.
  function tick() {
    if (loading === 0 && clock.paused && wantPlay && cells.length) clock.setPaused(false);
    let t = clock.now();
    // Near the end of what was loaded, load on from the clock once there is
    // something newer to load (the newest seconds are indexed late).
    if (!clock.paused && cells.length && t > windowEnd - 5000 && Date.now() - t > reloadLag) {
      seek(t);
      return;
    }
    if (!clock.paused && t > Date.now() - 1000) {
      clock.setPaused(true);
      wantPlay = false;
      ctl.setPaused(true);
      note.textContent = 'Reached the present. Click the timeline to play again.';
      t = clock.now();
    }
    const wall = new Date(t);
    const covering = cells.filter((c) => c.ready && c.vod.mediaTime(wall) !== null);
    // all wait while one of them buffers
    const buffering = !clock.paused && covering.some((c) => c.video.readyState < 3);
    if (buffering) clock.set(t);
    for (const c of cells) {
      if (!c.ready) continue;
      const v = c.video;
      const mt = c.vod.mediaTime(wall);
      const head = c.vod.wallTime();
      if (head) c.el.dataset.playhead = String(head.getTime());
      if (mt === null) {
        if (!v.paused) v.pause();
        c.el.dataset.sync = 'gap';
        c.state.textContent = 'nothing recorded at this time';
        continue;
      }
      if (c.el.dataset.sync === 'gap') c.state.textContent = '';
      c.el.dataset.sync = 'on';
      const drift = v.currentTime - mt;
      if (clock.paused || buffering) {
        if (!v.paused) v.pause();
        if (Math.abs(drift) > 0.02 && !buffering) v.currentTime = mt;
        continue;
      }
      if (v.paused) {
        if (Math.abs(drift) > 0.05) v.currentTime = mt;
        v.play().catch(() => {});
      } else if (Math.abs(drift) > 1) v.currentTime = mt;
      const nudge = Math.abs(drift) > 0.08 ? (drift > 0 ? 0.9 : 1.1) : 1;
      v.playbackRate = Math.min(16, Math.max(0.25, clock.rate * nudge));
    }
    clockText.textContent = fmtTime(wall) + (clock.rate !== 1 ? ` · ${clock.rate}×` : '');
    root.dataset.clock = String(Math.round(t));
    root.dataset.running = String(!clock.paused && !buffering);
    if (tl) tl.setPlayhead(wall);
  }

  async function loadSpans() {
    clearTimeout(spanTimer);
    if (!tl) return;
    const from = new Date(tl.start);
    const to = new Date(Math.min(tl.end, Date.now() + 60000));
    await Promise.all(cells.map(async (c, i) => {
      try {
        const res = to > from ? await api.get(`/api/v1/cameras/${enc(c.cam.id)}/recordings${q({ from, to })}`) : { spans: [] };
        if (tl) tl.setSpans(res.spans || [], i);
      } catch (e) {
        err.set(`Recordings of ${c.cam.name} cannot be loaded: ${e.message}`);
      }
    }));
    if (!stopped && tl && tl.end > Date.now() - 60000) spanTimer = setTimeout(loadSpans, 10000);
  }

  // build replaces the players and the timeline for the chosen cameras.
  function build() {
    for (const c of cells) c.vod.stop();
    const chosen = ids.map((id) => all.find((c) => c.id === id)).filter(Boolean);
    cells = chosen.map(cell);
    grid.dataset.count = String(cells.length);
    clear(grid, cells.length ? cells.map((c) => c.el) : h('p', { class: 'muted' }, 'Add up to four cameras to play them together.'));
    history.replaceState(null, '', `#/sync/${chosen.map((c) => c.id).join(',')}`);
    const prev = tl;
    tl = cells.length ? new Timeline({ onSeek: (d) => { wantPlay = true; ctl.setPaused(false); note.textContent = ''; seek(d.getTime()); }, onView: () => loadSpans(), lanes: cells.length }) : null;
    if (tl) {
      if (prev) tl.setView(prev.start, prev.end);
      else tl.setView(clock.now() - hour / 2, clock.now() + hour / 2);
    }
    clear(tlBox, tl ? tl.el : null);
    fillPicker();
    loadSpans();
    if (cells.length) seek(clock.now());
  }

  function fillPicker() {
    const free = all.filter((c) => !ids.includes(c.id));
    clear(picker, free.map((c) => h('option', { value: c.id }, c.name)));
    add.disabled = ids.length >= maxCameras || !free.length;
    picker.disabled = add.disabled;
  }

  function addCamera(id) {
    if (!id || ids.length >= maxCameras || ids.includes(id)) return;
    ids.push(id);
    build();
  }

  function removeCamera(id) {
    const i = ids.indexOf(id);
    if (i >= 0) ids.splice(i, 1);
    build();
  }

  const onKey = (e) => {
    if (ctl.keys(e)) e.preventDefault();
  };
  document.addEventListener('keydown', onKey);
  api.get('/api/v1/cameras').then((res) => {
    if (stopped) return;
    all = (res.cameras || []).filter((c) => (c.permissions || []).includes('playback')).sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
    for (let i = ids.length - 1; i >= 0; i--) if (!all.some((c) => c.id === ids[i])) ids.splice(i, 1);
    build();
    timer = setInterval(tick, tickMs);
  }).catch((e) => err.set(`Cameras cannot be loaded: ${e.message}`));
  return () => {
    stopped = true;
    clearInterval(timer);
    clearTimeout(spanTimer);
    document.removeEventListener('keydown', onKey);
    for (const c of cells) c.vod.stop();
  };
}
