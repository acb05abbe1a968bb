// usage.js: an organisation's usage (owners and admins): egress per day
// as bars stacked by kind (an SVG drawn here, no chart library), the top
// cameras or label values, totals, and the same figures as CSV.
import { api, enc } from './api.js';
import { h, clear, errorBox, localDate } from './dom.js';
import { fillAdminOrgs } from './orgs.js';

/** kinds are the egress kinds stacked in the bars, with their colours. */
const kinds = [
  ['webrtc', 'WebRTC', '#2f6fb3'],
  ['live_hls', 'Live HLS', '#5aa0e0'],
  ['vod', 'Recorded HLS', '#3c9a5f'],
  ['clip', 'Clip export', '#d08a2c'],
  ['image', 'Images', '#9b59b6'],
  ['share', 'Share links', '#c0504d'],
];
const svgNS = 'http://www.w3.org/2000/svg';

/** s creates an SVG element with attributes. */
function s(tag, attrs, ...children) {
  const el = document.createElementNS(svgNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

/** bytes formats a byte count in decimal units (as bills count them). */
export function bytes(n) {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

/** days lists the days from..to (YYYY-MM-DD, UTC) included. */
function days(from, to) {
  const out = [];
  for (let d = new Date(`${from}T00:00:00Z`); d <= new Date(`${to}T00:00:00Z`); d.setUTCDate(d.getUTCDate() + 1)) out.push(d.toISOString().slice(0, 10));
  return out;
}

/** chart draws egress per day, stacked by kind, for every day of the range. */
function chart(rep) {
  const byDay = new Map(rep.rows.map((r) => [r.key, r]));
  const all = days(rep.from, rep.to);
  const max = Math.max(1, ...rep.rows.map((r) => r.egress_bytes));
  const W = 720;
  const H = 240;
  const left = 64;
  const bottom = 24;
  const bw = (W - left) / all.length;
  const y = (v) => (H - bottom) * (1 - v / max);
  const g = s('g', {});
  for (const f of [0, 0.5, 1]) {
    g.append(s('line', { x1: left, x2: W, y1: y(max * f), y2: y(max * f), stroke: '#ccc', 'stroke-width': 1 }),
      s('text', { x: left - 6, y: y(max * f) + 4, 'text-anchor': 'end', 'font-size': 11 }, bytes(max * f)));
  }
  all.forEach((day, i) => {
    const r = byDay.get(day);
    let base = 0;
    const bar = s('g', { class: 'usage-day', 'data-day': day, 'data-bytes': r ? r.egress_bytes : 0 });
    for (const [k, label, colour] of kinds) {
      const v = r ? r.egress[k] : 0;
      if (!v) continue;
      const rect = s('rect', { x: left + i * bw + bw * 0.1, width: Math.max(1, bw * 0.8), y: y(base + v), height: Math.max(0.5, y(base) - y(base + v)), fill: colour, 'data-kind': k },
        s('title', {}, `${day} ${label}: ${bytes(v)}`));
      bar.append(rect);
      base += v;
    }
    g.append(bar);
    if (all.length <= 16 || i % Math.ceil(all.length / 12) === 0) g.append(s('text', { x: left + i * bw + bw / 2, y: H - 6, 'text-anchor': 'middle', 'font-size': 10 }, day.slice(5)));
  });
  return h('figure', {},
    s('svg', { class: 'usage-chart', id: 'usage-chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Egress per day, stacked by kind' }, g),
    h('figcaption', { class: 'usage-legend' }, kinds.map(([, label, colour]) => h('span', {}, h('i', { style: `background:${colour}` }), label))));
}

/** table lists groups (cameras or label values), most egress first. */
function table(rep, title, keyLabel) {
  const rows = [...rep.rows].sort((a, b) => b.egress_bytes - a.egress_bytes || b.stored_gb_days - a.stored_gb_days).slice(0, 20);
  const num = (v) => h('td', { class: 'num' }, v);
  return h('section', {}, h('h3', {}, title),
    rows.length ? h('table', { class: 'usage', id: 'usage-top' },
      h('thead', {}, h('tr', {}, [keyLabel, 'Egress', 'Stored', 'GB-days', 'Recorded', 'Ingest', 'Exports', 'Events', 'Webhooks'].map((t, i) => h('th', { class: i ? 'num' : '' }, t)))),
      h('tbody', {}, rows.map((r) => h('tr', { 'data-key': r.key },
        h('td', {}, r.name || r.key || '(none)'), num(bytes(r.egress_bytes)), num(bytes(r.stored_bytes)), num(r.stored_gb_days.toFixed(2)),
        num(`${(r.recorded_seconds / 3600).toFixed(1)} h`), num(bytes(r.ingest_bytes)), num(r.exports), num(r.events), num(r.webhook_deliveries))))) :
      h('p', { class: 'muted' }, 'Nothing used in this range.'));
}

/** showUsage renders the usage page. */
export function showUsage(main, ctx) {
  const err = errorBox();
  const body = h('div', { id: 'usage' });
  const pick = h('select', { id: 'usage-org', 'aria-label': 'Organisation' });
  const today = new Date();
  const from = h('input', { type: 'date', id: 'usage-from', value: localDate(new Date(today.getTime() - 29 * 864e5)) });
  const to = h('input', { type: 'date', id: 'usage-to', value: localDate(today) });
  const group = h('select', { id: 'usage-group', 'aria-label': 'Top list' }, h('option', { value: 'camera' }, 'Top cameras'));
  const csv = h('a', { id: 'usage-csv', class: 'button' }, 'Download CSV');
  for (const el of [pick, from, to, group]) el.addEventListener('change', () => load());
  clear(main, h('div', { class: 'card' }, h('div', { class: 'row wrap between' }, h('h2', {}, 'Usage'),
    h('div', { class: 'row wrap' }, pick, h('label', { class: 'inline' }, 'From ', from), h('label', { class: 'inline' }, 'To ', to), group, csv)),
  h('p', { class: 'muted small' }, 'Per UTC day; today’s figures lag by up to a minute. GB-days sum each day’s stored bytes.'), err, body));

  async function init() {
    const got = await fillAdminOrgs(ctx, pick, body, err);
    if (!got) return;
    const keys = new Set();
    for (const c of (ctx.cameras && ctx.cameras.list) || []) for (const k of Object.keys(c.labels || {})) keys.add(k);
    for (const k of [...keys].sort()) group.append(h('option', { value: `label:${k}` }, `By ${k}`));
    if (got.ids.length) load();
  }

  async function load() {
    err.set(null);
    const org = pick.value;
    if (!org) return;
    const q = `from=${enc(from.value)}&to=${enc(to.value)}`;
    const base = `/api/v1/orgs/${enc(org)}/usage`;
    csv.href = `${base}?${q}&group_by=${enc(group.value)}&format=csv`;
    try {
      const [perDay, top] = await Promise.all([api.get(`${base}?${q}&group_by=day`), api.get(`${base}?${q}&group_by=${enc(group.value)}`)]);
      const t = perDay.total;
      const label = group.value === 'camera' ? 'Camera' : group.value.slice(6);
      clear(body,
        h('p', { id: 'usage-totals' }, `Egress ${bytes(t.egress_bytes)} · stored ${bytes(t.stored_bytes)} (${t.stored_gb_days.toFixed(2)} GB-days) · recorded ${(t.recorded_seconds / 3600).toFixed(1)} h · ingest ${bytes(t.ingest_bytes)} · ${t.exports} exports · ${t.events} events · ${t.webhook_deliveries} webhook deliveries`),
        chart(perDay), table(top, group.value === 'camera' ? 'Top cameras' : `By ${label}`, label));
    } catch (e) {
      err.set(e);
    }
  }
  init();
  return null;
}
