// controls.js: the playback controls the camera page and synchronised
// playback share: play/pause, frame step, previous/next recorded span and
// the playback speed, with their keyboard shortcuts.
import { h } from './dom.js';

/** speeds are the playback rates offered. */
export const speeds = [0.5, 1, 2, 4, 8];

/**
 * transport builds the controls. on: {toggle, step(dir), span(dir),
 * rate(r)}; a missing handler leaves its buttons out. It returns {el,
 * setPaused(bool), setEnabled(bool), speed (the <select>), keys(e) (true
 * when the key was one of the shortcuts)}.
 */
export function transport(on) {
  const play = h('button', { type: 'button', id: 'play-pause', title: 'Play or pause (space)', onclick: () => on.toggle() }, '❚❚ Pause');
  const back = h('button', { type: 'button', id: 'frame-back', title: 'One frame back (,)', 'aria-label': 'One frame back', onclick: () => on.step(-1) }, '− 1 frame');
  const fwd = h('button', { type: 'button', id: 'frame-fwd', title: 'One frame forward (.)', 'aria-label': 'One frame forward', onclick: () => on.step(1) }, '+ 1 frame');
  const prev = h('button', { type: 'button', id: 'span-prev', title: 'Previous recording ([)', onclick: () => on.span(-1) }, '|◀ Previous recording');
  const next = h('button', { type: 'button', id: 'span-next', title: 'Next recording (])', onclick: () => on.span(1) }, 'Next recording ▶|');
  const speed = h('select', { id: 'speed', 'aria-label': 'Playback speed' }, speeds.map((r) => h('option', { value: String(r) }, `${r}×`)));
  speed.value = '1';
  speed.addEventListener('change', () => on.rate(Number(speed.value)));
  const vodOnly = [play, back, fwd, speed];
  const el = h('div', { class: 'row wrap transport', role: 'group', 'aria-label': 'Playback' },
    on.span ? prev : null, play, back, fwd, on.span ? next : null, h('label', { class: 'inline' }, 'Speed ', speed));
  return {
    el,
    speed,
    setPaused(p) {
      play.textContent = p ? '▶ Play' : '❚❚ Pause';
      play.dataset.paused = String(p);
    },
    /** setEnabled turns the controls that only act on a recording on or off (live has none). */
    setEnabled(v) {
      for (const b of vodOnly) b.disabled = !v;
      next.disabled = !v;
    },
    keys(e) {
      if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement || e.altKey || e.ctrlKey || e.metaKey) return false;
      // a focused button or video takes the space bar itself
      if (e.key === ' ' && (e.target instanceof HTMLButtonElement || e.target instanceof HTMLVideoElement)) return false;
      const act = { ' ': () => on.toggle(), ',': () => on.step(-1), '.': () => on.step(1), '[': () => on.span && on.span(-1), ']': () => on.span && on.span(1) }[e.key];
      if (!act || (e.key !== '[' && play.disabled)) return false;
      act();
      return true;
    },
  };
}
