// stills.js: the last recorded image of an offline camera, for its tile:
// the keyframe just before the end of the camera's last recorded span,
// scaled down in the browser. Asked only for tiles on screen, two at a
// time (the server makes at most a few images at once), and kept for the
// page's life per camera and last_seen, so a camera that stays offline is
// asked once.
import { api, enc, q } from './api.js';

const maxCached = 200; // images kept (about 20 KB each once scaled)
const width = 480; // px of a kept image
const concurrent = 2;
const retryNone = 60000; // ms before asking again for a camera with no image
const lookBack = 6 * 3600000; // ms before last_seen searched for the last span

const cache = new Map(); // camera id -> {key, url, time, none, at, promise}
const queue = [];
let active = 0;

/** clearStills forgets every image (at logout: the next user may not see them). */
export function clearStills() {
  for (const e of cache.values()) if (e.url) URL.revokeObjectURL(e.url);
  cache.clear();
  queue.length = 0;
}

/**
 * lastImage resolves to {url, time} (time: a Date) or null when the camera
 * has nothing recorded before it went offline. wanted() is asked when the
 * request's turn comes: a tile that left the screen meanwhile is skipped
 * (resolves null and is asked again next time).
 */
export function lastImage(cam, wanted = () => true) {
  const seen = cam.status && cam.status.last_seen;
  if (!seen || !(cam.permissions || []).includes('playback')) return Promise.resolve(null);
  const key = seen;
  const hit = cache.get(cam.id);
  if (hit && hit.key === key) {
    if (hit.url) return Promise.resolve({ url: hit.url, time: hit.time });
    if (hit.promise) return hit.promise;
    if (hit.none && Date.now() - hit.at < retryNone) return Promise.resolve(null);
  }
  if (hit && hit.url) URL.revokeObjectURL(hit.url);
  const entry = { key, url: '', time: null, none: false, at: Date.now(), promise: null };
  cache.delete(cam.id); // re-inserted last: the oldest entries go first
  cache.set(cam.id, entry);
  trim();
  entry.promise = new Promise((resolve) => {
    queue.push({ run: () => fetchStill(cam, new Date(seen)), wanted, resolve, entry, id: cam.id });
    pump();
  });
  return entry.promise;
}

function trim() {
  while (cache.size > maxCached) {
    const [id, e] = cache.entries().next().value;
    if (e.url) URL.revokeObjectURL(e.url);
    cache.delete(id);
  }
}

function pump() {
  while (active < concurrent && queue.length) {
    const job = queue.shift();
    if (cache.get(job.id) !== job.entry) {
      job.resolve(null);
      continue;
    }
    if (!job.wanted()) {
      cache.delete(job.id); // asked again when the tile is back on screen
      job.resolve(null);
      continue;
    }
    active++;
    job.run().then((res) => {
      job.entry.promise = null;
      job.entry.at = Date.now();
      if (res && cache.get(job.id) === job.entry) Object.assign(job.entry, res);
      else if (res) URL.revokeObjectURL(res.url);
      else job.entry.none = true;
      job.resolve(res);
    }, () => {
      job.entry.promise = null;
      job.entry.none = true;
      job.resolve(null);
    }).finally(() => {
      active--;
      pump();
    });
  }
}

/** fetchStill finds the end of the last span up to seen and fetches its image. */
async function fetchStill(cam, seen) {
  const res = await api.get(`/api/v1/cameras/${enc(cam.id)}/recordings${q({ from: new Date(seen.getTime() - lookBack), to: new Date(seen.getTime() + 120000) })}`);
  const spans = res.spans || [];
  if (!spans.length) return null;
  const end = new Date(spans[spans.length - 1].end).getTime();
  const img = await fetch(`/api/v1/cameras/${enc(cam.id)}/image${q({ at: new Date(end - 500) })}`, { credentials: 'same-origin' });
  if (!img.ok) return null;
  const time = new Date(img.headers.get('X-Camcloud-Image-Time') || end);
  return { url: URL.createObjectURL(await scaled(await img.blob())), time };
}

/** scaled draws a JPEG at most width pixels wide, so that kept images stay small. */
async function scaled(blob) {
  if (typeof createImageBitmap !== 'function') return blob;
  try {
    const bmp = await createImageBitmap(blob);
    if (bmp.width <= width) {
      bmp.close();
      return blob;
    }
    const c = document.createElement('canvas');
    c.width = width;
    c.height = Math.round((bmp.height * width) / bmp.width);
    c.getContext('2d').drawImage(bmp, 0, 0, c.width, c.height);
    bmp.close();
    return await new Promise((resolve) => c.toBlob((b) => resolve(b || blob), 'image/jpeg', 0.8));
  } catch {
    return blob;
  }
}
