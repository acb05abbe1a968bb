// orgs.js: organisation helpers shared by the management pages.
import { api } from './api.js';
import { h } from './dom.js';

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

/** roles are the organisation roles, strongest first. */
export const roles = ['owner', 'admin', 'operator', 'viewer'];
