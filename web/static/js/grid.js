// grid.js: the cameras the user may see, as a wall of live tiles for an
// organisation of any size: search by name, filter by state, sort, 1, 4,
// 9 or 16 tiles per screen with paging, and full screen. Only the tiles of
// the page are built, and only those on screen stream
// (IntersectionObserver); the list is refreshed for the states, and at
// once when the event stream says a camera went offline or came back.
// Cameras can be filtered by a label (site=shibuya) and grouped by a
// label key (one heading per site).
import { api } from './api.js';
import { h, clear, errorBox } from './dom.js';
import { Tile } from './tile.js';
import { cameraState } from './status.js';
import { labelTerms, hasLabel } from './labels.js';

export { statusBadge } from './status.js';

const refreshEvery = 15000; // ms between camera list refreshes
/** layouts are the tiles per screen offered. */
export const layouts = [1, 4, 9, 16];
const filters = [
  ['all', 'All'],
  ['online', 'Online'],
  ['offline', 'Offline'],
  ['norec', 'Not recording'],
];
const sorts = [
  ['name', 'Name'],
  ['state', 'Offline first'],
  ['seen', 'Last seen'],
];
const prefsKey = 'camcloud.grid'; // localStorage: layout and sort
const viewKey = 'camcloud.grid.view'; // sessionStorage: search, filter, page

function load(store, key) {
  try {
    return JSON.parse(store.getItem(key) || '{}') || {};
  } catch {
    return {};
  }
}

function save(store, key, v) {
  try {
    store.setItem(key, JSON.stringify(v));
  } catch {
    /* storage disabled: the choice lasts for this page */
  }
}

/** matches says whether a camera passes the state filter. */
function matches(cam, filter) {
  const s = cameraState(cam);
  if (filter === 'online') return s !== 'offline';
  return filter === 'all' || s === filter;
}

const stateOrder = { offline: 0, norec: 1, online: 2 };
const seenAt = (c) => (c.status && c.status.last_seen ? new Date(c.status.last_seen).getTime() : 0);
const byName = (a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }) || a.id.localeCompare(b.id);
const comparators = {
  name: byName,
  state: (a, b) => stateOrder[cameraState(a)] - stateOrder[cameraState(b)] || byName(a, b),
  seen: (a, b) => (b.status && b.status.online ? 1 : 0) - (a.status && a.status.online ? 1 : 0) || seenAt(b) - seenAt(a) || byName(a, b),
};

/** select builds a <select> of [value, label] options. */
function select(id, label, options, value) {
  const s = h('select', { id, 'aria-label': label }, options.map(([v, l]) => h('option', { value: v }, l)));
  s.value = value;
  return s;
}

/** options replaces the options of a <select>, keeping value when it is
 * still offered (else the first option). */
function options(sel, opts, value) {
  const same = sel.options.length === opts.length && opts.every(([v, l], i) => sel.options[i].value === v && sel.options[i].textContent === l);
  if (!same) clear(sel, opts.map(([v, l]) => h('option', { value: v }, l)));
  sel.value = opts.some(([v]) => v === value) ? value : opts[0][0];
}

/** showGrid renders the camera grid; it returns a function that stops it. */
export function showGrid(main, ctx = {}) {
  const prefs = { layout: 16, sort: 'name', ...load(localStorage, prefsKey) };
  if (!layouts.includes(prefs.layout)) prefs.layout = 16;
  if (!comparators[prefs.sort]) prefs.sort = 'name';
  if (typeof prefs.group !== 'string') prefs.group = '';
  const view = { q: '', filter: 'all', page: 1, label: '', ...load(sessionStorage, viewKey) };
  if (typeof view.label !== 'string') view.label = '';
  // #/?label=site=shibuya opens the grid filtered by that label
  if (ctx.params && ctx.params[0]) {
    try {
      view.label = decodeURIComponent(ctx.params[0]);
      view.page = 1;
    } catch {
      /* a malformed link shows every camera */
    }
  }
  if (!filters.some(([v]) => v === view.filter)) view.filter = 'all';

  const err = errorBox();
  const search = h('input', { type: 'search', id: 'grid-search', placeholder: 'Search by name', 'aria-label': 'Search cameras by name', maxlength: 100, value: view.q });
  const filter = select('grid-filter', 'Show', filters, view.filter);
  const sort = select('grid-sort', 'Sort by', sorts, prefs.sort);
  const labelSel = select('grid-label', 'Label', [['', 'Any label']], '');
  const groupSel = select('grid-group', 'Group by', [['', 'No grouping']], '');
  const heads = new Map(); // group value -> its heading element
  const layoutButtons = layouts.map((n) => h('button', { type: 'button', 'data-layout': String(n), 'aria-pressed': String(n === prefs.layout), title: `${n} per screen`, onclick: () => setLayout(n) }, String(n)));
  const full = h('button', { type: 'button', id: 'grid-fullscreen', title: 'Full screen (f)', onclick: () => toggleFull() }, 'Full screen');
  const count = h('span', { class: 'muted', id: 'grid-count' });
  const prev = h('button', { type: 'button', id: 'grid-prev', 'aria-label': 'Previous page', onclick: () => go(view.page - 1) }, '◀');
  const next = h('button', { type: 'button', id: 'grid-next', 'aria-label': 'Next page', onclick: () => go(view.page + 1) }, '▶');
  const pageLabel = h('span', { id: 'grid-page', class: 'nowrap' });
  const grid = h('div', { class: 'grid', id: 'grid' });
  const empty = h('p', { class: 'muted', id: 'grid-empty', hidden: true });
  const wall = h('section', { class: 'wall', id: 'grid-wall', 'data-layout': String(prefs.layout) },
    h('div', { class: 'toolbar row wrap between' },
      h('div', { class: 'row wrap filters' }, h('h2', {}, 'Cameras'), search, filter, h('label', { class: 'inline' }, 'Sort ', sort),
        labelSel, h('label', { class: 'inline' }, 'Group ', groupSel)),
      h('div', { class: 'row wrap' }, h('div', { class: 'row layouts', role: 'group', 'aria-label': 'Tiles per screen' }, layoutButtons), full)),
    grid, empty,
    h('div', { class: 'pager row between' }, count, h('div', { class: 'row' }, prev, pageLabel, next)));
  clear(main, err, wall);

  const tiles = new Map(); // camera id -> Tile, for the page shown
  const io = new IntersectionObserver((entries) => {
    for (const e of entries) {
      const t = tiles.get(e.target.dataset.camera);
      if (t) t.setVisible(e.isIntersecting);
    }
  }, { rootMargin: '100px' });
  // the list app.js loaded a moment ago saves a request at start
  let cams = ctx.cameras && Date.now() - ctx.cameras.at < 5000 ? ctx.cameras.list : null;
  let stopped = false;
  let timer = 0;
  let searchTimer = 0;

  function persist() {
    save(localStorage, prefsKey, prefs);
    save(sessionStorage, viewKey, view);
  }

  // render shows the page of the filtered, sorted list; tiles that stay on
  // the page keep streaming.
  function render() {
    if (!cams) return;
    const needle = view.q.trim().toLocaleLowerCase();
    const { terms, keys } = labelTerms(cams);
    options(labelSel, [['', 'Any label'], ...terms.map((t) => [t, t])], view.label);
    options(groupSel, [['', 'No grouping'], ...keys.map((k) => [k, `by ${k}`])], prefs.group);
    view.label = labelSel.value;
    prefs.group = groupSel.value;
    const group = prefs.group;
    const groupOf = (c) => (c.labels && Object.prototype.hasOwnProperty.call(c.labels, group) ? c.labels[group] : null);
    const byGroup = (a, b) => {
      const ga = groupOf(a);
      const gb = groupOf(b);
      if (ga === gb) return 0;
      if (ga === null) return 1; // cameras without the label last
      if (gb === null) return -1;
      return ga.localeCompare(gb, undefined, { numeric: true });
    };
    const shown = cams.filter((c) => matches(c, view.filter) && hasLabel(c, view.label) && (!needle || c.name.toLocaleLowerCase().includes(needle)))
      .sort((a, b) => (group ? byGroup(a, b) : 0) || comparators[prefs.sort](a, b));
    const per = prefs.layout;
    const pages = Math.max(1, Math.ceil(shown.length / per));
    view.page = Math.min(Math.max(1, view.page), pages);
    const page = shown.slice((view.page - 1) * per, view.page * per);
    const counts = { all: cams.length, online: 0, offline: 0, norec: 0 };
    for (const c of cams) {
      const s = cameraState(c);
      if (s === 'offline') counts.offline++;
      else counts.online++;
      if (s === 'norec') counts.norec++;
    }
    for (const o of filter.options) o.textContent = `${filters.find(([v]) => v === o.value)[1]} (${counts[o.value]})`;
    count.textContent = shown.length === cams.length ? `${cams.length} camera${cams.length === 1 ? '' : 's'}` : `${shown.length} of ${cams.length} cameras`;
    count.dataset.shown = String(shown.length);
    pageLabel.textContent = `Page ${view.page} of ${pages}`;
    pageLabel.dataset.page = String(view.page);
    pageLabel.dataset.pages = String(pages);
    prev.disabled = view.page <= 1;
    next.disabled = view.page >= pages;
    const keep = new Set(page.map((c) => c.id));
    for (const [id, t] of tiles) {
      if (keep.has(id)) continue;
      io.unobserve(t.el);
      t.destroy();
      t.el.remove();
      tiles.delete(id);
    }
    const els = [];
    const used = new Set();
    let last;
    for (const c of page) {
      if (group && (els.length === 0 || groupOf(c) !== last)) {
        last = groupOf(c);
        const name = last === null ? `No ${group}` : `${group}: ${last}`;
        let hd = heads.get(name);
        if (!hd) {
          hd = h('h3', { class: 'group-head', 'data-group': last === null ? '' : last }, name);
          heads.set(name, hd);
        }
        used.add(name);
        els.push(hd);
      }
      let t = tiles.get(c.id);
      if (t) t.update(c);
      else {
        t = new Tile(c);
        tiles.set(c.id, t);
        io.observe(t.el);
      }
      els.push(t.el);
    }
    for (const [name, hd] of heads) {
      if (used.has(name)) continue;
      hd.remove();
      heads.delete(name);
    }
    // in list order; moving an element that is in place would restart its video
    els.forEach((el, i) => {
      if (grid.children[i] !== el) grid.insertBefore(el, grid.children[i] || null);
    });
    empty.hidden = page.length > 0;
    empty.textContent = cams.length ? 'No camera matches.' : 'No cameras yet.';
    if (!grid.dataset.ready) performance.mark('grid-ready');
    grid.dataset.ready = 'true';
    persist();
  }

  function go(page) {
    view.page = page;
    render();
  }

  function setLayout(n) {
    // keep the first tile of the page in view
    const first = (view.page - 1) * prefs.layout;
    prefs.layout = n;
    view.page = Math.floor(first / n) + 1;
    wall.dataset.layout = String(n);
    for (const b of layoutButtons) b.setAttribute('aria-pressed', String(Number(b.dataset.layout) === n));
    render();
  }

  function toggleFull() {
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    else if (wall.requestFullscreen) wall.requestFullscreen().catch((e) => err.set(`Full screen is not available: ${e.message}`));
  }

  search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      view.q = search.value;
      view.page = 1;
      render();
    }, 150);
  });
  filter.addEventListener('change', () => {
    view.filter = filter.value;
    view.page = 1;
    render();
  });
  sort.addEventListener('change', () => {
    prefs.sort = sort.value;
    render();
  });
  labelSel.addEventListener('change', () => {
    view.label = labelSel.value;
    view.page = 1;
    render();
  });
  groupSel.addEventListener('change', () => {
    prefs.group = groupSel.value;
    render();
  });
  const onFull = () => {
    const on = document.fullscreenElement === wall;
    wall.classList.toggle('full', on);
    full.textContent = on ? 'Exit full screen' : 'Full screen';
  };
  document.addEventListener('fullscreenchange', onFull);
  const onKey = (e) => {
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement || e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.key === 'ArrowRight' || e.key === 'PageDown') go(view.page + 1);
    else if (e.key === 'ArrowLeft' || e.key === 'PageUp') go(view.page - 1);
    else if (e.key === 'f') toggleFull();
    else return;
    e.preventDefault();
  };
  document.addEventListener('keydown', onKey);

  async function refresh() {
    try {
      const res = await api.get('/api/v1/cameras');
      if (stopped) return;
      err.set(null);
      cams = res.cameras || [];
      render();
    } catch (e) {
      if (!stopped) err.set(`Cameras cannot be loaded: ${e.message}`);
    }
    if (!stopped) timer = setTimeout(refresh, refreshEvery);
  }
  // a camera going offline or coming back shows on its tile at once
  const onEvent = (e) => {
    const t = e.detail.type;
    if (stopped || (t !== 'camera.offline' && t !== 'camera.online')) return;
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  };
  window.addEventListener('camcloud:event', onEvent);
  if (cams) {
    render();
    timer = setTimeout(refresh, refreshEvery);
  } else refresh();
  return () => {
    stopped = true;
    clearTimeout(timer);
    clearTimeout(searchTimer);
    document.removeEventListener('fullscreenchange', onFull);
    document.removeEventListener('keydown', onKey);
    window.removeEventListener('camcloud:event', onEvent);
    if (document.fullscreenElement === wall) document.exitFullscreen().catch(() => {});
    io.disconnect();
    for (const t of tiles.values()) t.destroy();
  };
}
