// timeline.js: a horizontal timeline of recorded spans over a view window,
// in one lane per camera (synchronised playback shows several). A click
// asks to play from that instant; a drag selects a range (for clip export)
// when the owner takes one. Zoom and pan change the window; the owner loads
// spans for it, and the events in it: markers (ranges for motion, points
// for the others) that play from the event's start when clicked.
import { h, clear } from './dom.js';

const minute = 60000;
const steps = [10000, 30000, minute, 5 * minute, 15 * minute, 30 * minute, 60 * minute, 3 * 60 * minute, 6 * 60 * minute];
/** zooms are the view lengths offered, longest first. */
export const zooms = [24 * 60 * minute, 6 * 60 * minute, 60 * minute, 15 * minute, 5 * minute];

export class Timeline {
  /**
   * onSeek(Date) on click; onSelect(Date, Date) on drag (without it a drag
   * seeks where it ends); onView() after zoom or pan; lanes: how many rows
   * of spans.
   */
  constructor({ onSeek, onSelect = null, onView, lanes = 1 }) {
    this.onSeek = onSeek;
    this.onSelect = onSelect;
    this.onView = onView;
    this.start = 0;
    this.end = 0;
    this.lanes = Array.from({ length: lanes }, () => []);
    this.playhead = null;
    this.range = null;
    this.events = [];
    this.holds = [];
    this.track = h('div', { class: 'tl-track', id: 'timeline', role: 'slider',
      'aria-label': onSelect ? 'Timeline: click to play from that time, drag to select a range' : 'Timeline: click to play from that time' });
    if (lanes > 1) this.track.style.height = `${12 + lanes * 16}px`;
    this.ticks = h('div', { class: 'tl-ticks' });
    this.el = h('div', { class: 'timeline' }, this.track, this.ticks);
    this.bindPointer();
    this.track.addEventListener('wheel', (e) => {
      e.preventDefault();
      this.zoomBy(e.deltaY > 0 ? 2 : 0.5, this.timeAt(e.clientX));
    }, { passive: false });
  }

  /** timeAt maps a client x coordinate to a time in ms. */
  timeAt(x) {
    const r = this.track.getBoundingClientRect();
    const f = Math.min(Math.max((x - r.left) / r.width, 0), 1);
    return this.start + f * (this.end - this.start);
  }

  bindPointer() {
    let down = null;
    this.track.addEventListener('pointerdown', (e) => {
      down = { x: e.clientX, t: this.timeAt(e.clientX) };
      this.track.setPointerCapture(e.pointerId);
    });
    this.track.addEventListener('pointermove', (e) => {
      if (!down || !this.onSelect || Math.abs(e.clientX - down.x) < 5) return;
      const t = this.timeAt(e.clientX);
      this.setRange(new Date(Math.min(t, down.t)), new Date(Math.max(t, down.t)));
    });
    this.track.addEventListener('pointerup', (e) => {
      if (!down) return;
      const moved = Math.abs(e.clientX - down.x) >= 5;
      const t = this.timeAt(e.clientX);
      const d = down;
      down = null;
      if (moved && this.onSelect) this.onSelect(new Date(Math.min(t, d.t)), new Date(Math.max(t, d.t)));
      else this.onSeek(new Date(t));
    });
  }

  /** setView sets the window [start, end] in ms. */
  setView(start, end) {
    this.start = start;
    this.end = end;
    this.track.dataset.viewStart = String(Math.round(start));
    this.track.dataset.viewEnd = String(Math.round(end));
    this.render();
  }

  zoomBy(factor, center) {
    const len = Math.min(Math.max((this.end - this.start) * factor, zooms[zooms.length - 1]), zooms[0]);
    const c = center ?? (this.playhead ? this.playhead.getTime() : (this.start + this.end) / 2);
    const f = (c - this.start) / (this.end - this.start);
    this.setView(c - f * len, c - f * len + len);
    this.onView();
  }

  /** zoomTo sets the view length, keeping the playhead (or the centre) in view. */
  zoomTo(len) {
    this.zoomBy(len / (this.end - this.start));
  }

  pan(fraction) {
    const d = (this.end - this.start) * fraction;
    this.setView(this.start + d, this.end + d);
    this.onView();
  }

  /** setSpans shows the recorded spans [{start, end}] of one lane. */
  setSpans(spans, lane = 0) {
    this.lanes[lane] = spans.map((s) => [new Date(s.start).getTime(), new Date(s.end).getTime()]);
    this.render();
  }

  /** setEvents shows event markers: [{id, type, time, end?, ongoing?, label?}]. */
  setEvents(events) {
    this.events = events.map((ev) => {
      const s = new Date(ev.time).getTime();
      const e = ev.end ? new Date(ev.end).getTime() : ev.ongoing ? Date.now() : s;
      return { id: ev.id, type: ev.type, label: ev.label || ev.type, s, e, ranged: !!(ev.end || ev.ongoing) };
    });
    this.render();
  }

  /** setHolds shows legal holds as bands: [{id, from, to, reason}]. */
  setHolds(holds) {
    this.holds = holds.map((x) => ({ id: x.id, s: new Date(x.from).getTime(), e: new Date(x.to).getTime(), reason: x.reason }));
    this.render();
  }

  // holdBands are the bands of the holds in view (they take no clicks).
  holdBands() {
    const len = this.end - this.start;
    return this.holds.filter((x) => x.e >= this.start && x.s <= this.end).map((x) => {
      const b = h('div', { class: 'tl-hold', 'data-id': x.id, title: `Legal hold: ${x.reason}` });
      b.style.left = this.pct(Math.max(x.s, this.start));
      b.style.width = `${((Math.min(x.e, this.end) - Math.max(x.s, this.start)) / len) * 100}%`;
      return b;
    });
  }

  // eventMarkers are the markers of the events in view; a marker takes its
  // own clicks (the track's pointer handling never sees them).
  eventMarkers() {
    const len = this.end - this.start;
    const out = [];
    for (const ev of this.events) {
      if (ev.e < this.start || ev.s > this.end) continue;
      const kind = ev.type.replace(/\..*/, '');
      const m = h('button', { type: 'button', class: `tl-event ${kind}${ev.ranged ? ' ranged' : ''}`, 'data-type': ev.type, 'data-id': ev.id,
        'data-time': String(ev.s), title: `${ev.label} at ${new Date(ev.s).toLocaleTimeString()}${ev.ranged ? ` for ${Math.round((ev.e - ev.s) / 1000)} s` : ''}: click to play from then`,
        'aria-label': `${ev.label} at ${new Date(ev.s).toLocaleTimeString()}` });
      m.addEventListener('pointerdown', (e) => e.stopPropagation());
      m.addEventListener('pointerup', (e) => e.stopPropagation());
      m.addEventListener('click', (e) => {
        e.stopPropagation();
        this.onSeek(new Date(ev.s));
      });
      m.style.left = this.pct(Math.max(ev.s, this.start));
      if (ev.ranged) m.style.width = `${((Math.min(ev.e, this.end) - Math.max(ev.s, this.start)) / len) * 100}%`;
      out.push(m);
    }
    return out;
  }

  /** spans are the spans of lane 0 in view, [start, end] in ms. */
  get spans() {
    return this.lanes[0];
  }

  setPlayhead(d) {
    this.playhead = d;
    this.renderMarks();
  }

  setRange(from, to) {
    this.range = from && to ? [from.getTime(), to.getTime()] : null;
    this.renderMarks();
  }

  pct(t) {
    return `${((t - this.start) / (this.end - this.start)) * 100}%`;
  }

  render() {
    const len = this.end - this.start;
    if (len <= 0) return;
    const bars = [];
    const n = this.lanes.length;
    this.lanes.forEach((spans, lane) => {
      for (const [s, e] of spans) {
        if (e < this.start || s > this.end) continue;
        const b = h('div', { class: 'tl-span', 'data-lane': String(lane) });
        b.style.left = this.pct(Math.max(s, this.start));
        b.style.width = `${((Math.min(e, this.end) - Math.max(s, this.start)) / len) * 100}%`;
        if (n > 1) {
          b.style.top = `${6 + lane * 16}px`;
          b.style.bottom = 'auto';
          b.style.height = '12px';
        }
        bars.push(b);
      }
    });
    const now = Date.now();
    const future = h('div', { class: 'tl-future' });
    future.style.left = this.pct(Math.min(Math.max(now, this.start), this.end));
    future.style.right = '0';
    this.marks = h('div', { class: 'tl-marks' });
    clear(this.track, this.holdBands(), bars, now < this.end ? future : null, this.marks, this.eventMarkers());
    this.renderMarks();
    const step = steps.find((s) => len / s <= 8) || steps[steps.length - 1];
    const labels = [];
    for (let t = Math.ceil(this.start / step) * step; t <= this.end; t += step) {
      const d = new Date(t);
      const l = h('span', {}, d.toLocaleTimeString(undefined, step < minute ? { hour: '2-digit', minute: '2-digit', second: '2-digit' } : { hour: '2-digit', minute: '2-digit' }));
      l.style.left = this.pct(t);
      labels.push(l);
    }
    clear(this.ticks, labels);
  }

  renderMarks() {
    if (!this.marks) return;
    const out = [];
    if (this.range && this.range[1] >= this.start && this.range[0] <= this.end) {
      const r = h('div', { class: 'tl-range' });
      r.style.left = this.pct(Math.max(this.range[0], this.start));
      r.style.width = `${((Math.min(this.range[1], this.end) - Math.max(this.range[0], this.start)) / (this.end - this.start)) * 100}%`;
      out.push(r);
    }
    if (this.playhead) {
      const t = this.playhead.getTime();
      if (t >= this.start && t <= this.end) {
        const p = h('div', { class: 'tl-playhead' });
        p.style.left = this.pct(t);
        out.push(p);
      }
    }
    clear(this.marks, out);
  }
}
