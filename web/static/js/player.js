// player.js: plays a camera's live view in a <video> (WHEP first, then
// LL-HLS through hls.js) and recordings (HLS VOD with program date time, so
// the wall time of the playhead is known).
import Hls from '../vendor/hls.light.min.mjs';
import { api, enc, ApiError } from './api.js';

const whepTimeout = 6000; // ms without a decoded frame before HLS is tried
const whepConnectLimit = 4000; // ms after its answer until the server drops an unconnected session (5 s, less a margin)
const vodBuffer = 20; // s of recording buffered ahead at normal speed
const prefKey = 'camcloud.live';

/** livePreference is "auto" (WebRTC, then HLS) or "hls" (HLS only). */
export function livePreference() {
  try {
    return localStorage.getItem(prefKey) === 'hls' ? 'hls' : 'auto';
  } catch {
    return 'auto';
  }
}

/** setLivePreference stores the choice for this browser. */
export function setLivePreference(v) {
  try {
    localStorage.setItem(prefKey, v === 'hls' ? 'hls' : 'auto');
  } catch {
    /* storage disabled: the choice lasts for this page only */
  }
}

/** waitFrames resolves when the video shows a frame, or rejects after ms. */
function waitFrames(video, ms, signal) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = () => {
      if (signal.aborted) return reject(new Error('stopped'));
      if (video.videoWidth > 0 && video.currentTime > 0) return resolve();
      if (Date.now() - t0 > ms) return reject(new Error('no video'));
      setTimeout(tick, 200);
    };
    tick();
  });
}

/** gathered resolves when ICE gathering completes, or after ms. */
function gathered(pc, ms) {
  return new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    const t = setTimeout(resolve, ms);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') {
        clearTimeout(t);
        resolve();
      }
    });
  });
}

/**
 * keyframeWait asks for a live HLS playlist once: when the server answers
 * 503 waiting_for_keyframe it returns {message, retry (ms)}, else null (the
 * player then loads the playlist as usual).
 */
async function keyframeWait(url, signal) {
  try {
    const res = await fetch(url, { signal });
    if (res.status !== 503) return null;
    const body = await res.json();
    if (!body.error || body.error.code !== 'waiting_for_keyframe') return null;
    const secs = parseInt(res.headers.get('Retry-After') || '2', 10);
    return { message: body.error.message, retry: Math.max(1, Number.isNaN(secs) ? 2 : secs) * 1000 };
  } catch {
    return null;
  }
}

/**
 * LivePlayer shows one camera live. onState receives {mode, error} as it
 * changes: mode is "connecting", "webrtc", "hls", "waiting" (no keyframe
 * yet: error says so) or "off".
 */
export class LivePlayer {
  constructor(video, cameraId, onState = () => {}) {
    this.video = video;
    this.id = cameraId;
    this.onState = onState;
    this.ctl = null;
    this.pc = null;
    this.hls = null;
    this.whepSession = '';
    this.whepAnswered = 0;
    this.whepConnected = false;
    this.renew = 0;
    this.ping = 0;
  }

  /** start connects; calling it again restarts. */
  async start() {
    this.stop();
    const ctl = new AbortController();
    this.ctl = ctl;
    this.onState({ mode: 'connecting' });
    let urls;
    try {
      urls = await api.post(`/api/v1/cameras/${enc(this.id)}/live`);
    } catch (err) {
      if (!ctl.signal.aborted) this.onState({ mode: 'off', error: err });
      return;
    }
    if (ctl.signal.aborted) return;
    // While it plays, ask for the URLs again every minute: the server's
    // audit log writes one media.live entry per viewer and camera, with how
    // long it was watched, and ends it a few minutes after the last ask.
    this.ping = setInterval(() => {
      if (!ctl.signal.aborted) api.post(`/api/v1/cameras/${enc(this.id)}/live`).catch(() => {});
    }, 60000);
    if (livePreference() !== 'hls' && typeof RTCPeerConnection === 'function' && urls.whep_url) {
      try {
        await this.startWHEP(urls.whep_url, ctl.signal);
        this.onState({ mode: 'webrtc' });
        return;
      } catch {
        // Stopped meanwhile (a switch to a recording): stop() hung up, and
        // the element may be the recording's now: leave it alone.
        if (ctl.signal.aborted) return;
        this.stopWHEP();
      }
    }
    this.startHLS(urls, ctl.signal);
  }

  async startWHEP(url, signal) {
    const pc = new RTCPeerConnection();
    this.pc = pc;
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    const stream = new MediaStream();
    pc.addEventListener('track', (e) => {
      if (signal.aborted || this.pc !== pc) return; // hung up: the element is not ours
      stream.addTrack(e.track);
      this.video.srcObject = stream;
      this.video.play().catch(() => {});
    });
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc, 1500);
    const res = await fetch(url, { method: 'POST', body: pc.localDescription.sdp, headers: { 'Content-Type': 'application/sdp' }, signal });
    if (res.status !== 201) throw new ApiError(res.status, 'whep', `WebRTC was refused (${res.status})`);
    const loc = res.headers.get('Location');
    if (loc) this.whepSession = new URL(loc, url).href;
    this.whepAnswered = Date.now();
    this.whepConnected = false;
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
    pc.addEventListener('connectionstatechange', () => {
      if (pc.connectionState === 'connected' && this.pc === pc) this.whepConnected = true;
      if (pc.connectionState === 'failed' && this.pc === pc && !signal.aborted) this.start();
    });
    await waitFrames(this.video, whepTimeout, signal);
  }

  async startHLS(urls, signal) {
    const v = this.video;
    if (v.srcObject) v.srcObject = null;
    // A camera that streams but has sent no keyframe yet answers 503
    // waiting_for_keyframe: say so, and ask again when the server says.
    const wait = await keyframeWait(urls.hls_url, signal);
    if (signal.aborted) return;
    if (wait) {
      this.onState({ mode: 'waiting', error: new Error(wait.message) });
      this.renew = setTimeout(() => { if (!signal.aborted) this.startHLS(urls, signal); }, wait.retry);
      return;
    }
    const retry = () => {
      if (!signal.aborted) setTimeout(() => { if (!signal.aborted) this.start(); }, 3000);
    };
    if (Hls.isSupported()) {
      const hls = new Hls({ lowLatencyMode: true, enableWorker: false, backBufferLength: 30 });
      this.hls = hls;
      hls.on(Hls.Events.ERROR, (_, data) => {
        if (!data.fatal) return;
        this.onState({ mode: 'off', error: new Error('The live stream stopped; reconnecting…') });
        this.stopHLS();
        retry();
      });
      hls.on(Hls.Events.MANIFEST_PARSED, () => v.play().catch(() => {}));
      hls.loadSource(urls.hls_url);
      hls.attachMedia(v);
    } else if (v.canPlayType('application/vnd.apple.mpegurl')) {
      v.src = urls.hls_url;
      v.play().catch(() => {});
    } else {
      this.onState({ mode: 'off', error: new Error('This browser cannot play live video.') });
      return;
    }
    this.onState({ mode: 'hls' });
    // HLS URLs carry a token of about 10 minutes: ask again before it ends.
    const left = new Date(urls.expires_at).getTime() - Date.now() - 60000;
    this.renew = setTimeout(() => this.start(), Math.max(left, 30000));
  }

  // stopWHEP hangs up. The DELETE goes first and the connection closes
  // when it is answered: closing first ends the server's session on its
  // own, and the DELETE that follows would find none (404). A connection
  // that failed or closed has no session left to delete.
  stopWHEP() {
    const pc = this.pc;
    const session = this.whepSession;
    this.pc = null;
    this.whepSession = '';
    // Setting srcObject, even to null, reloads the element: only when live
    // has set it, never over a recording that took the element since.
    if (this.video.srcObject) this.video.srcObject = null;
    if (!pc) return;
    // The server ends a session that has not connected 5 s after its
    // answer by itself; so does a failed or closed connection.
    const gone = pc.connectionState === 'failed' || pc.connectionState === 'closed' || (!this.whepConnected && Date.now() - this.whepAnswered > whepConnectLimit);
    if (!session || gone) {
      pc.close();
      return;
    }
    const close = () => pc.close();
    const timer = setTimeout(close, 2000);
    fetch(session, { method: 'DELETE', keepalive: true }).catch(() => {}).finally(() => {
      clearTimeout(timer);
      close();
    });
  }

  stopHLS() {
    if (this.hls) {
      this.hls.destroy();
      this.hls = null;
    }
  }

  /** stop ends every connection; the video goes blank. */
  stop() {
    if (this.ctl) this.ctl.abort();
    this.ctl = null;
    clearTimeout(this.renew);
    clearInterval(this.ping);
    this.stopWHEP();
    this.stopHLS();
    this.video.removeAttribute('src');
    this.video.load();
  }
}

/**
 * VodPlayer plays recordings from a wall-clock instant. wallTime() maps
 * the playhead to a Date using the playlist's EXT-X-PROGRAM-DATE-TIME.
 */
export class VodPlayer {
  constructor(video, cameraId, onState = () => {}) {
    this.video = video;
    this.id = cameraId;
    this.onState = onState;
    this.hls = null;
    this.frags = [];
    this.seq = 0;
    this.rate = 1;
    this.paused = false; // start paused (synchronised playback waits for all)
    this.frameDur = 0;
  }

  /** play starts playback at `at` and plays up to `to` (Dates). */
  async play(at, to) {
    this.stop();
    const seq = ++this.seq;
    this.onState({ mode: 'loading' });
    let res;
    try {
      res = await api.post(`/api/v1/cameras/${enc(this.id)}/playback`, { from: at.toISOString(), to: to.toISOString() });
    } catch (err) {
      if (seq === this.seq) this.onState({ mode: 'off', error: err.status === 404 ? new Error('Nothing was recorded at this time.') : err });
      return;
    }
    if (seq !== this.seq) return;
    if (!Hls.isSupported()) {
      this.onState({ mode: 'off', error: new Error('This browser cannot play recordings (no Media Source Extensions).') });
      return;
    }
    const rate = this.rate || 1;
    const hls = new Hls({ autoStartLoad: false, enableWorker: false, maxBufferLength: vodBuffer * Math.max(1, rate), maxMaxBufferLength: Math.max(600, vodBuffer * rate * 2) });
    this.hls = hls;
    this.watchFrames(seq);
    hls.on(Hls.Events.LEVEL_LOADED, (_, data) => {
      const frags = data.details.fragments;
      this.frags = frags.map((f) => ({ start: f.start, dur: f.duration, pdt: f.programDateTime }));
      if (hls.started) return;
      hls.started = true;
      const first = this.frags[0];
      const off = first && first.pdt ? Math.max(0, (at.getTime() - first.pdt) / 1000) : 0;
      hls.startLoad(first ? first.start + off : -1);
      this.video.currentTime = first ? first.start + off : 0;
      this.video.defaultPlaybackRate = this.rate;
      this.video.playbackRate = this.rate;
      if (!this.paused) this.video.play().catch(() => {});
      this.onState({ mode: 'playing' });
    });
    hls.on(Hls.Events.ERROR, (_, data) => {
      if (!data.fatal || seq !== this.seq) return;
      // a media error (e.g. the element's source needing a reset after
      // live used it) is recovered once by reattaching, as hls.js advises
      if (data.type === 'mediaError' && !hls.recovered) {
        hls.recovered = true;
        hls.recoverMediaError();
        return;
      }
      this.onState({ mode: 'off', error: new Error(`The recording cannot be played (${data.details}).`) });
    });
    hls.loadSource(res.hls_url);
    hls.attachMedia(this.video);
  }

  /** wallTime is the Date at the playhead, or null before it is known. */
  wallTime() {
    const t = this.video.currentTime;
    for (const f of this.frags) {
      if (f.pdt && t >= f.start && t < f.start + f.dur + 0.05) return new Date(f.pdt + (t - f.start) * 1000);
    }
    return null;
  }

  /** covers says whether the loaded playlist holds wall time d (a Date). */
  covers(d) {
    return this.mediaTime(d) !== null;
  }

  /** mediaTime maps a wall time to the video's time, null in a gap or outside. */
  mediaTime(d) {
    const ms = d.getTime();
    for (const f of this.frags) {
      if (f.pdt && ms >= f.pdt && ms < f.pdt + f.dur * 1000) return f.start + (ms - f.pdt) / 1000;
    }
    return null;
  }

  /** seekWall moves the playhead to wall time d; false when nothing loaded is recorded then. */
  seekWall(d) {
    const t = this.mediaTime(d);
    if (t === null) return false;
    this.video.currentTime = t;
    return true;
  }

  /** setRate plays at rate (0.5 to 8) and buffers further ahead when faster. */
  setRate(rate) {
    this.rate = rate;
    this.video.defaultPlaybackRate = rate;
    this.video.playbackRate = rate;
    if (this.hls) {
      this.hls.config.maxBufferLength = vodBuffer * Math.max(1, rate);
      this.hls.config.maxMaxBufferLength = Math.max(this.hls.config.maxMaxBufferLength, vodBuffer * Math.max(1, rate) * 2);
    }
  }

  /** frameDuration is the seconds between frames measured while playing (1/25 until known). */
  frameDuration() {
    return this.frameDur || 1 / 25;
  }

  /** step pauses and moves one frame forward (dir 1) or back (dir -1). */
  step(dir) {
    const v = this.video;
    v.pause();
    // the frame shown at t is the last one presented at or before t, so
    // t ± one frame interval shows its neighbour wherever t lies in it
    v.currentTime = Math.max(0, v.currentTime + dir * this.frameDuration());
  }

  // watchFrames measures the frame interval from presented frames.
  watchFrames(seq) {
    const v = this.video;
    if (typeof v.requestVideoFrameCallback !== 'function') return;
    let last = -1;
    const cb = (_, meta) => {
      if (seq !== this.seq) return;
      const dt = meta.mediaTime - last;
      if (last >= 0 && dt > 0.005 && dt < 0.5 && v.playbackRate === 1) this.frameDur = this.frameDur ? Math.min(this.frameDur, dt) : dt;
      last = meta.mediaTime;
      v.requestVideoFrameCallback(cb);
    };
    v.requestVideoFrameCallback(cb);
  }

  stop() {
    this.seq++;
    if (this.hls) {
      this.hls.destroy();
      this.hls = null;
    }
    this.frags = [];
    this.video.removeAttribute('src');
    this.video.load();
  }
}
