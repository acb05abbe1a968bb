// orgs.js: organisation helpers shared by the management pages.
import { api } from './api.js';
import { h, clear } from './dom.js';

/** loadOrgs returns the caller's organisations as a Map id -> name. */
export async function loadOrgs() {
  const res = await api.get('/api/v1/orgs');
  return new Map((res.orgs || []).map((o) => [o.id, o.name]));
}

/** adminOrgs lists the org ids where the user is owner or admin. */
export function adminOrgs(me) {
  const ids = (me.memberships || []).filter((m) => m.role === 'owner' || m.role === 'admin').map((m) => m.org_id);
  if (me.acting_as && !ids.includes(me.acting_as.org_id)) ids.push(me.acting_as.org_id);
  return ids;
}

/** orgSelect is a <select> of the given org ids, named from orgs. */
export function orgSelect(ids, orgs, attrs = {}) {
  return h('select', attrs, ids.map((id) => h('option', { value: id }, orgs.get(id) || id)));
}

/**
 * fillAdminOrgs loads the organisations the user manages into the select
 * pick (a note in body when there are none; a failure in err) and
 * returns their ids with the names of all the user's organisations, or
 * null when they could not be loaded.
 */
export async function fillAdminOrgs(ctx, pick, body, err) {
  let orgs;
  try {
    orgs = await loadOrgs();
  } catch (e) {
    err.set(e);
    return null;
  }
  const ids = adminOrgs(ctx.me).filter((id) => orgs.has(id) || ctx.me.acting_as);
  clear(pick, [...orgSelect(ids, orgs).children]);
  if (!ids.length) clear(body, h('p', { class: 'muted' }, 'You manage no organisation.'));
  return { ids, orgs };
}

/** roles are the organisation roles, strongest first. */
export const roles = ['owner', 'admin', 'operator', 'viewer'];
