// status.js: a camera's state in words, the same on its tile, its page and
// the management list: online or offline (and since when), whether it is
// recorded and, when not, why.
import { h, fmtTime } from './dom.js';

/** state is "online", "norec" (online, not recorded) or "offline". */
export function cameraState(cam) {
  const st = cam.status || {};
  if (!st.online) return 'offline';
  return !st.recording || st.recording === 'recording' ? 'online' : 'norec';
}

/** ago says how long ago t (ms) was, in the largest unit that fits. */
export function ago(t, now = Date.now()) {
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** when is a time of today as its clock time, an older one with its date. */
export function when(t) {
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return '';
  if (d.toDateString() === new Date().toDateString()) return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  return fmtTime(d);
}

/**
 * statusText is why a camera is not live and recorded, in a short line for
 * its tile and a longer one for its page; both empty for a camera that is
 * online and recorded. status.offline_reason is shown when the API gives
 * it (why the last connection ended or a pull failed), and
 * status.offline_since (else last_seen) as the time it went offline.
 */
export function statusText(cam) {
  const st = cam.status || {};
  const state = cameraState(cam);
  if (state === 'offline') {
    const at = st.offline_since || st.last_seen;
    const seen = at ? new Date(at).getTime() : 0;
    const since = seen ? `offline since ${when(seen)} (${ago(seen)})` : 'offline: never connected';
    const why = st.offline_reason ? `: ${st.offline_reason}` : '';
    const pull = cam.source && cam.source.type === 'pull' ? ' camcloud keeps trying to pull its stream.' : '';
    // a tile has room for the gist: the reason up to its first colon
    const gist = st.offline_reason ? `: ${st.offline_reason.split(/: |\. /)[0]}` : '';
    const short = seen && gist ? `offline since ${when(seen)}${gist}` : since + gist;
    return { short, long: `${since[0].toUpperCase()}${since.slice(1)}${why}${/[.!]$/.test(why) ? '' : '.'}${pull}` };
  }
  const tracks = st.unrecorded_tracks ? ` Not recorded: ${st.unrecorded_tracks}.` : '';
  if (state === 'norec') {
    const why = st.recording === 'off' ? 'recording is off' : st.recording_reason || 'not recording';
    return { short: why, long: `${why[0].toUpperCase()}${why.slice(1)}${/[.!]$/.test(why) ? '' : '.'}${tracks}` };
  }
  return { short: '', long: tracks.trim() };
}

/** statusBadge shows online or offline, and "not recording" (with the
 * reason as its tooltip) for a connected camera that is not being recorded. */
export function statusBadge(cam) {
  const st = cam.status || {};
  const on = !!st.online;
  const badge = h('span', { class: `badge ${on ? 'online' : 'offline'}`, 'data-online': on ? 'true' : 'false', title: on ? '' : statusText(cam).short }, on ? 'online' : 'offline');
  if (!on || !st.recording || st.recording === 'recording') return badge;
  const text = st.recording === 'off' ? 'recording off' : 'not recording';
  return h('span', {}, badge, ' ',
    h('span', { class: `badge norec ${st.recording}`, 'data-recording': st.recording, title: st.recording_reason || '' }, text));
}
