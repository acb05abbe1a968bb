// tile.js: one camera in the grid. It streams live only while it is on
// screen and the camera is online; an offline camera shows its last
// recorded image and when it was taken, and every tile says why it is not
// live or not recorded.
import { h, clear, fmtTime } from './dom.js';
import { LivePlayer } from './player.js';
import { statusBadge, statusText, cameraState } from './status.js';
import { lastImage } from './stills.js';

const stopDelay = 3000; // ms a tile keeps streaming after it left the screen

/** Tile is a camera's tile; el is its element, update(cam) refreshes it. */
export class Tile {
  constructor(cam) {
    this.cam = cam;
    this.visible = false;
    this.playing = false;
    this.timer = 0;
    this.video = h('video', { muted: true, playsinline: true, autoplay: true, 'aria-label': `Live view of ${cam.name}` });
    this.video.muted = true;
    this.still = h('img', { class: 'still', alt: '', hidden: true });
    this.stillTime = h('span', { class: 'still-time', hidden: true });
    this.note = h('span', { class: 'tile-note' });
    this.badge = h('span', {});
    this.name = h('span', { class: 'name' });
    this.el = h('a', { class: 'tile', href: `#/camera/${cam.id}`, 'data-camera': cam.id },
      h('div', { class: 'frame' }, this.video, this.still, this.stillTime, this.note),
      h('div', { class: 'tile-foot' }, this.name, this.badge));
    this.canLive = (cam.permissions || []).includes('live');
    this.stream = '';
    this.player = new LivePlayer(this.video, cam.id, ({ mode, error }) => {
      this.el.dataset.mode = mode;
      this.stream = error ? error.message : mode === 'connecting' ? 'connecting…' : '';
      this.showNote();
    });
    this.update(cam);
  }

  /** update takes a newer copy of the camera from the list. */
  update(cam) {
    this.cam = cam;
    this.el.dataset.state = cameraState(cam);
    this.name.textContent = cam.name;
    this.name.title = cam.name;
    clear(this.badge, statusBadge(cam));
    this.sync();
  }

  online() {
    return !!(this.cam.status && this.cam.status.online);
  }

  showNote() {
    let text = statusText(this.cam).short;
    if (!this.canLive) text = text || 'no live permission';
    else if (this.online() && this.stream) text = text ? `${this.stream} · ${text}` : this.stream;
    this.note.textContent = text;
    this.note.title = text;
  }

  /** setVisible is told whether the tile is on screen. */
  setVisible(v) {
    this.visible = v;
    this.sync();
  }

  // sync starts or stops streaming to match visibility and status, and
  // shows the last image of an offline camera once it is on screen.
  sync() {
    const want = this.visible && this.canLive && this.online();
    clearTimeout(this.timer);
    if (want && (!this.playing || this.el.dataset.mode === 'off')) {
      // not yet streaming, or the last attempt failed: (re)start
      this.playing = true;
      this.player.start();
    } else if (!want && this.playing) {
      this.timer = setTimeout(() => {
        this.playing = false;
        this.player.stop();
        this.el.dataset.mode = 'off';
      }, this.visible ? 0 : stopDelay);
    }
    if (this.online()) this.hideStill();
    else if (this.visible) this.loadStill();
    this.showNote();
  }

  loadStill() {
    const key = this.cam.status && this.cam.status.last_seen;
    if (this.stillKey === key) return;
    this.stillKey = key;
    lastImage(this.cam, () => this.visible && !this.online()).then((img) => {
      if (this.stillKey !== key || this.online()) return;
      if (!img) {
        this.stillKey = undefined; // ask again next time it is on screen
        return;
      }
      this.still.src = img.url;
      this.still.alt = `Last recorded image of ${this.cam.name}`;
      this.still.hidden = false;
      this.stillTime.textContent = `last image ${fmtTime(img.time)}`;
      this.stillTime.dataset.time = String(img.time.getTime());
      this.stillTime.hidden = false;
      this.el.dataset.still = 'true';
    });
  }

  hideStill() {
    this.stillKey = undefined;
    this.still.hidden = true;
    this.stillTime.hidden = true;
    delete this.el.dataset.still;
  }

  /** destroy stops streaming; the element is removed by the grid. */
  destroy() {
    clearTimeout(this.timer);
    this.visible = false;
    this.player.stop();
  }
}
