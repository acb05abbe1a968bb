// apiref.js: the API reference, rendered in the page from the OpenAPI
// document the server serves (GET /api/v1/openapi.json, which is
// docs/openapi.yaml): operations by tag with their summary, description,
// parameters, request schema and example, and answers. Nothing is loaded
// from other sites, and no text of the document is parsed as markup.
import { api } from './api.js';
import { h, clear, errorBox } from './dom.js';

/** resolve follows a local $ref of the document. */
function resolve(doc, s) {
  if (!s || typeof s.$ref !== 'string') return s;
  const name = s.$ref.replace('#/components/schemas/', '');
  return (doc.components && doc.components.schemas && doc.components.schemas[name]) || s;
}

/** typeOf says a schema's type in a few words. */
function typeOf(doc, s, depth = 0) {
  const ref = s && s.$ref ? s.$ref.split('/').pop() : '';
  s = resolve(doc, s) || {};
  const t = Array.isArray(s.type) ? s.type.join(' or ') : s.type || 'any';
  if (t === 'array' && s.items && depth < 2) return `array of ${typeOf(doc, s.items, depth + 1)}`;
  const more = [s.enum ? `one of ${s.enum.join(', ')}` : '', s.format || '', s.maxLength ? `at most ${s.maxLength} characters` : '',
    s.minimum !== undefined ? `≥ ${s.minimum}` : '', s.maximum !== undefined ? `≤ ${s.maximum}` : ''].filter(Boolean);
  return (ref ? `${ref} (${t})` : t) + (more.length ? `, ${more.join(', ')}` : '');
}

/** fields lists an object schema's properties, one level deep. */
function fields(doc, schema) {
  const s = resolve(doc, schema) || {};
  const props = s.properties || {};
  const req = new Set(s.required || []);
  const rows = Object.entries(props).map(([k, p]) => h('tr', {},
    h('td', {}, h('code', {}, k), req.has(k) ? '' : h('span', { class: 'muted small' }, ' optional')),
    h('td', {}, typeOf(doc, p), p.description ? h('div', { class: 'muted small' }, p.description) : null)));
  return rows.length ? h('table', { class: 'apiref-fields' }, h('tbody', {}, rows)) : h('p', { class: 'muted small' }, typeOf(doc, schema));
}

/** operation renders one operation as a collapsible block. */
function operation(doc, method, path, op) {
  const params = (op.parameters || []).map((p) => h('tr', {},
    h('td', {}, h('code', {}, p.name), h('span', { class: 'muted small' }, ` ${p.in}${p.required ? '' : ', optional'}`)),
    h('td', {}, p.description || typeOf(doc, p.schema))));
  const body = op.requestBody && op.requestBody.content && op.requestBody.content['application/json'];
  const answers = Object.entries(op.responses || {}).map(([code, r]) => {
    const c = r.$ref ? { description: 'an error: {"error":{"code","message"}}' } : r;
    const sch = c.content && c.content['application/json'] && c.content['application/json'].schema;
    return h('div', { class: 'apiref-answer' }, h('strong', {}, code === 'default' ? 'error' : code), ' ', c.description || '',
      sch && code !== 'default' ? fields(doc, sch) : null);
  });
  const open = Array.isArray(op.security) && op.security.length === 0;
  return h('details', { class: 'card apiref-op', id: op.operationId, 'data-route': op['x-camcloud-route'] || '' },
    h('summary', {}, h('span', { class: `apiref-method m-${method}` }, method.toUpperCase()), ' ', h('code', {}, path), ' ',
      h('span', {}, op.summary || ''), open ? h('span', { class: 'muted small' }, ' (no login)') : null),
    op.description ? h('p', {}, op.description) : null,
    params.length ? [h('h4', {}, 'Parameters'), h('table', { class: 'apiref-fields' }, h('tbody', {}, params))] : null,
    body ? [h('h4', {}, 'Request body'), fields(doc, body.schema),
      body.example ? h('pre', { class: 'apiref-example' }, JSON.stringify(body.example, null, 2)) : null] : null,
    h('h4', {}, 'Answers'), answers);
}

/** showAPIReference renders the API reference page. */
export function showAPIReference(main) {
  const err = errorBox();
  const out = h('div', { id: 'apiref' }, h('p', { class: 'muted' }, 'Loading…'));
  const filter = h('input', { type: 'search', id: 'apiref-filter', placeholder: 'filter by path or words', maxlength: 100 });
  clear(main, h('h2', {}, 'API reference'),
    h('p', {}, 'Every route of this server, from its OpenAPI 3.1 document (',
      h('a', { href: '/api/v1/openapi.json', download: 'camcloud-openapi.json' }, 'openapi.json'),
      '). Send a session token or an API key (Account page) as "Authorization: Bearer …".'),
    h('div', { class: 'row' }, filter), err, out);
  (async () => {
    try {
      const doc = await api.get('/api/v1/openapi.json');
      const byTag = new Map();
      for (const [path, ops] of Object.entries(doc.paths || {})) {
        for (const [method, op] of Object.entries(ops)) {
          const tag = (op.tags && op.tags[0]) || 'Other';
          if (!byTag.has(tag)) byTag.set(tag, []);
          byTag.get(tag).push(operation(doc, method, path, op));
        }
      }
      const order = (doc.tags || []).map((t) => t.name);
      const tags = [...byTag.keys()].sort((a, b) => order.indexOf(a) - order.indexOf(b));
      clear(out, h('p', { class: 'muted small' }, `${doc.info.title} ${doc.info.version} · OpenAPI ${doc.openapi}`),
        tags.map((t) => h('section', { class: 'apiref-tag' }, h('h3', {}, t), byTag.get(t))));
      filter.addEventListener('input', () => {
        const words = filter.value.trim().toLowerCase();
        for (const op of out.querySelectorAll('.apiref-op')) op.hidden = words !== '' && !op.textContent.toLowerCase().includes(words);
      });
    } catch (e) {
      err.set(e);
      clear(out);
    }
  })();
  return null;
}
