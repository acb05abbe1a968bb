// grid.js: every camera the user may see, as live tiles. Only tiles on
// screen stream (IntersectionObserver), so fifty cameras stay usable; the
// list is refreshed for online/offline badges.
import { api } from './api.js';
import { h, clear, errorBox } from './dom.js';
import { LivePlayer } from './player.js';

const refreshEvery = 15000; // ms between camera list refreshes
const stopDelay = 3000; // ms a tile keeps streaming after it left the screen

/** statusBadge shows online or offline, and "not recording" (with the
 * reason as its tooltip) for a connected camera that is not being recorded. */
export function statusBadge(cam) {
  const st = cam.status || {};
  const on = !!st.online;
  const badge = h('span', { class: `badge ${on ? 'online' : 'offline'}`, 'data-online': on ? 'true' : 'false' }, on ? 'online' : 'offline');
  if (!on || !st.recording || st.recording === 'recording') return badge;
  const text = st.recording === 'off' ? 'recording off' : 'not recording';
  return h('span', {}, badge, ' ',
    h('span', { class: `badge norec ${st.recording}`, 'data-recording': st.recording, title: st.recording_reason || '' }, text));
}

/** tile is one camera in the grid with its own player. */
function tile(cam) {
  const video = h('video', { muted: true, playsinline: true, autoplay: true, 'aria-label': `Live view of ${cam.name}` });
  video.muted = true;
  const note = h('span', { class: 'tile-note' });
  const badge = h('span', {}, statusBadge(cam));
  const el = h('a', { class: 'tile', href: `#/camera/${cam.id}`, 'data-camera': cam.id },
    h('div', { class: 'frame' }, video, note),
    h('div', { class: 'tile-foot' }, h('span', { class: 'name' }, cam.name), badge));
  const canLive = (cam.permissions || []).includes('live');
  const player = new LivePlayer(video, cam.id, ({ mode, error }) => {
    el.dataset.mode = mode;
    note.textContent = error ? error.message : mode === 'connecting' ? 'connecting…' : '';
  });
  const t = { el, cam, player, visible: false, playing: false, timer: 0 };
  t.update = (c) => {
    t.cam = c;
    clear(badge, statusBadge(c));
    el.querySelector('.name').textContent = c.name;
    t.sync();
  };
  // sync starts or stops streaming to match visibility and status.
  t.sync = () => {
    const want = t.visible && canLive && t.cam.status && t.cam.status.online;
    clearTimeout(t.timer);
    if (want && (!t.playing || el.dataset.mode === 'off')) {
      // not yet streaming, or the last attempt failed: (re)start
      t.playing = true;
      player.start();
    } else if (!want && t.playing) {
      t.timer = setTimeout(() => {
        t.playing = false;
        player.stop();
        el.dataset.mode = 'off';
      }, t.visible ? 0 : stopDelay);
    }
    if (!canLive) note.textContent = 'no live permission';
    else if (!(t.cam.status && t.cam.status.online)) note.textContent = 'offline';
  };
  return t;
}

/** showGrid renders the camera grid; it returns a function that stops it. */
export function showGrid(main) {
  const err = errorBox();
  const grid = h('div', { class: 'grid', id: 'grid' });
  const count = h('span', { class: 'muted' });
  clear(main, h('div', { class: 'row between' }, h('h2', {}, 'Cameras ', count)), err, grid);
  const tiles = new Map();
  const io = new IntersectionObserver((entries) => {
    for (const e of entries) {
      const t = tiles.get(e.target.dataset.camera);
      if (!t) continue;
      t.visible = e.isIntersecting;
      t.sync();
    }
  }, { rootMargin: '100px' });
  let stopped = false;
  let timer = 0;
  async function load() {
    try {
      const res = await api.get('/api/v1/cameras');
      if (stopped) return;
      err.set(null);
      const cams = (res.cameras || []).slice().sort((a, b) => a.name.localeCompare(b.name));
      count.textContent = `(${cams.length})`;
      const seen = new Set();
      if (cams.length) grid.querySelector('p.muted')?.remove();
      for (const c of cams) {
        seen.add(c.id);
        const t = tiles.get(c.id);
        if (t) t.update(c);
        else {
          const nt = tile(c);
          tiles.set(c.id, nt);
          grid.append(nt.el);
          io.observe(nt.el);
        }
      }
      for (const [id, t] of tiles) {
        if (seen.has(id)) continue;
        io.unobserve(t.el);
        t.player.stop();
        t.el.remove();
        tiles.delete(id);
      }
      // keep the DOM in name order
      for (const c of cams) grid.append(tiles.get(c.id).el);
      if (!cams.length) clear(grid, h('p', { class: 'muted' }, 'No cameras yet.'));
    } catch (e) {
      if (!stopped) err.set(`Cameras cannot be loaded: ${e.message}`);
    }
    if (!stopped) timer = setTimeout(load, refreshEvery);
  }
  load();
  return () => {
    stopped = true;
    clearTimeout(timer);
    io.disconnect();
    for (const t of tiles.values()) {
      clearTimeout(t.timer);
      t.player.stop();
    }
  };
}
