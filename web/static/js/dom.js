// dom.js: small helpers to build elements without innerHTML (so nothing
// from the API is ever parsed as markup), show errors in words and ask for
// confirmation.

/**
 * h creates an element. attrs: properties and attributes ("on*" functions
 * become listeners, "class" the class name, booleans toggle attributes).
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value') {
      // defaultValue too, so that form.reset() returns to it
      if (el instanceof HTMLInputElement) el.defaultValue = v;
      el.value = v;
    } else if (k === 'checked' || k === 'selected') el[k] = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** clear empties el and appends children. */
export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** message turns any error into words for a person. */
export function message(err) {
  if (!err) return 'Something went wrong.';
  if (typeof err === 'string') return err;
  return err.message || String(err);
}

/** errorBox is an inline error element that stays hidden until set. */
export function errorBox() {
  const el = h('p', { class: 'error', role: 'alert', hidden: true });
  el.set = (err) => {
    el.textContent = err ? message(err) : '';
    el.hidden = !err;
  };
  return el;
}

/** banner shows a message at the top of the page (kind: error or info). */
export function banner(text, kind = 'error') {
  const el = document.getElementById('banner');
  if (!text) {
    el.hidden = true;
    return;
  }
  el.className = kind;
  clear(el, h('span', {}, text), h('button', { type: 'button', class: 'link', 'aria-label': 'Dismiss', onclick: () => { el.hidden = true; } }, '×'));
  el.hidden = false;
}

/** confirmDialog asks a yes/no question in a modal; resolves to true on yes. */
export function confirmDialog(text, yes = 'Delete') {
  return new Promise((resolve) => {
    const dlg = h('dialog', { class: 'confirm' },
      h('p', {}, text),
      h('div', { class: 'row end' },
        h('button', { type: 'button', onclick: () => done(false) }, 'Cancel'),
        h('button', { type: 'button', class: 'danger', onclick: () => done(true) }, yes)));
    function done(v) {
      dlg.close();
      dlg.remove();
      resolve(v);
    }
    dlg.addEventListener('cancel', () => done(false));
    document.body.append(dlg);
    dlg.showModal();
  });
}

/** secretDialog shows values that are displayed once (ingest URLs, keys). */
export function secretDialog(title, note, rows) {
  const dlg = h('dialog', { class: 'secret' },
    h('h3', {}, title),
    h('p', { class: 'warn' }, note),
    rows.map(([label, value]) => h('label', {}, label,
      h('div', { class: 'row' },
        h('input', { type: 'text', readonly: true, value, class: 'mono', onfocus: (e) => e.target.select() }),
        h('button', { type: 'button', onclick: () => navigator.clipboard && navigator.clipboard.writeText(value) }, 'Copy')))),
    h('div', { class: 'row end' }, h('button', { type: 'button', class: 'primary', onclick: () => { dlg.close(); dlg.remove(); } }, 'Done')));
  document.body.append(dlg);
  dlg.showModal();
  return dlg;
}

/** fmtTime formats a Date or RFC 3339 string as local date and time. */
export function fmtTime(t) {
  if (!t) return '';
  const d = t instanceof Date ? t : new Date(t);
  if (Number.isNaN(d.getTime())) return '';
  return d.toLocaleString(undefined, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** fmtClock formats a Date as local time of day with seconds. */
export function fmtClock(d) {
  return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** localInput formats a Date for <input type=datetime-local step=1>. */
export function localInput(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** localDate formats a Date for <input type=date>. */
export function localDate(d) {
  return localInput(d).slice(0, 10);
}

/** busy disables a button while fn runs and returns fn's promise. */
export async function busy(button, fn) {
  button.disabled = true;
  try {
    return await fn();
  } finally {
    button.disabled = false;
  }
}
