// labels.js: camera labels (key=value: sites, cost centres) as the UI
// writes and reads them: "site=shibuya, cost-center=retail" in a text
// field, chips on a camera, and the label terms a list can be filtered or
// grouped by. The server checks the bounds and says why it refuses.

/** labelText writes a camera's labels as "k=v, k2=v2" (keys in order). */
export function labelText(labels) {
  return Object.keys(labels || {}).sort().map((k) => `${k}=${labels[k]}`).join(', ');
}

/** parseLabels reads "k=v, k2=v2" into an object; it throws on a term
 * without "=" so that the person sees which one. */
export function parseLabels(text) {
  const out = {};
  for (const term of text.split(',').map((t) => t.trim()).filter(Boolean)) {
    const i = term.indexOf('=');
    if (i <= 0) throw new Error(`Label "${term}" must be written key=value.`);
    out[term.slice(0, i).trim()] = term.slice(i + 1).trim();
  }
  return out;
}

/** labelTerms lists the "key=value" terms and the keys found on cams. */
export function labelTerms(cams) {
  const terms = new Set();
  const keys = new Set();
  for (const c of cams) {
    for (const [k, v] of Object.entries(c.labels || {})) {
      terms.add(`${k}=${v}`);
      keys.add(k);
    }
  }
  const cmp = (a, b) => a.localeCompare(b, undefined, { numeric: true });
  return { terms: [...terms].sort(cmp), keys: [...keys].sort(cmp) };
}

/** hasLabel says whether a camera carries the "key=value" term. */
export function hasLabel(cam, term) {
  if (!term) return true;
  const i = term.indexOf('=');
  const labels = cam.labels || {};
  return Object.prototype.hasOwnProperty.call(labels, term.slice(0, i)) && labels[term.slice(0, i)] === term.slice(i + 1);
}
