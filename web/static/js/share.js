// share.js: the public viewer of a share link (/s/#TOKEN), for people
// without an account. It opens the link (asking for its password when it
// has one), says what it shows ("Gate, 1 Dec 2026 07:15-07:20, shared by
// ..."), plays only that range (HLS VOD: the playlist holds nothing else)
// or that live view, and offers the clip for download when the link
// allows it. Every media request is checked against the link by the
// server, so a revoked link stops playing at the next request.
import Hls from '../vendor/hls.light.min.mjs';
import { request } from './api.js';
import { h, clear, errorBox, fmtTime, fmtClock } from './dom.js';

const main = document.getElementById('main');
const token = decodeURIComponent(location.hash.replace(/^#/, ''));
let hls = null;
let given = ''; // the password that opened the link, to open it again for a new live URL

/** refused shows why the link cannot be watched. */
function refused(text) {
  if (hls) {
    hls.destroy();
    hls = null;
  }
  clear(main, h('div', { class: 'card share-refused', 'data-share-state': 'refused' },
    h('h2', {}, 'This video cannot be shown'), h('p', { class: 'error', role: 'alert' }, text)));
}

/** describeRange is the range in words: the day and the times of day. */
function describeRange(o) {
  if (o.live) return 'live';
  const from = new Date(o.from);
  const to = new Date(o.to);
  const sameDay = from.toDateString() === to.toDateString();
  return sameDay ? `${from.toLocaleDateString()} ${fmtClock(from)}–${fmtClock(to)}` : `${fmtTime(from)} – ${fmtTime(to)}`;
}

/** open asks the server for the link's media, with password if given. */
async function open(password) {
  try {
    const o = await request('POST', '/api/v1/shares/open', { token, password: password || '' });
    given = password || '';
    show(o);
  } catch (err) {
    if (err.code === 'password_required' || err.code === 'wrong_password') {
      askPassword(err.code === 'wrong_password' ? 'Wrong password. Try again.' : '');
      return;
    }
    refused(err.message);
  }
}

/** askPassword shows the password form of a protected link. */
function askPassword(note) {
  const err = errorBox();
  const input = h('input', { type: 'password', name: 'password', autocomplete: 'off', required: true, 'aria-label': 'Password' });
  const form = h('form', { class: 'card share-password', onsubmit: (e) => { e.preventDefault(); open(input.value); } },
    h('h2', {}, 'This shared video needs a password'),
    h('label', {}, 'Password', input), err,
    h('button', { type: 'submit', class: 'primary' }, 'Open'));
  clear(main, form);
  if (note) err.set(note);
  input.focus();
}

/** show plays what was opened. */
function show(o) {
  const title = `${o.camera_name}, ${describeRange(o)}`;
  document.title = `${title} · camcloud`;
  const video = h('video', { id: 'share-video', controls: true, muted: true, playsinline: true, autoplay: true });
  const status = h('p', { class: 'muted', id: 'share-status', role: 'status' });
  const download = o.clip_url ? h('a', { id: 'share-download', class: 'button', href: o.clip_url, download: '' }, 'Download clip (MP4)') : null;
  clear(main, h('div', { class: 'card share-view', 'data-share-state': 'open' },
    h('h2', { id: 'share-title' }, title),
    h('p', { class: 'muted', id: 'share-by' }, `Shared by ${o.shared_by || 'a camcloud user'} · link valid until ${fmtTime(o.expires_at)}`),
    o.note ? h('p', { id: 'share-note' }, o.note) : null,
    video, status, download));
  play(video, o.hls_url, o.live, status);
}

/** play attaches the playlist to video with hls.js (or natively). */
function play(video, url, live, status) {
  if (!Hls.isSupported()) {
    video.src = url;
    return;
  }
  hls = new Hls({ enableWorker: false, lowLatencyMode: live });
  hls.on(Hls.Events.ERROR, (_e, data) => {
    const code = data.response && data.response.code;
    if (live && code === 401) {
      // A live URL lasts minutes: open the link again for a new one.
      hls.destroy();
      hls = null;
      open(given);
      return;
    }
    if (code === 410 || code === 401 || code === 403) {
      refused(code === 410 ? 'This share link was revoked or has expired.' : 'This share link no longer gives access to the video.');
      return;
    }
    if (data.fatal) status.textContent = 'The video cannot be played right now.';
  });
  hls.loadSource(url);
  hls.attachMedia(video);
  video.addEventListener('playing', () => { status.textContent = ''; }, { once: true });
}

if (!/^cc_l_[A-Za-z0-9_-]{20,100}$/.test(token)) {
  refused('This link is incomplete: copy the whole address you were given.');
} else {
  open('');
}
