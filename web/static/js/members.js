// members.js: members of an organisation and their roles: add (creating the
// account when a password is given), change role, remove; and the
// organisation's storage use and quota (storage.js). Platform admins
// also create organisations here.
import { api, enc } from './api.js';
import { h, clear, errorBox, confirmDialog, busy } from './dom.js';
import { fillAdminOrgs, roles } from './orgs.js';
import { storageCard } from './storage.js';

/** showMembers renders the members page. */
export function showMembers(main, ctx) {
  const err = errorBox();
  const body = h('div');
  let orgs = new Map();
  const pick = h('select', { id: 'members-org' });
  pick.addEventListener('change', () => list(pick.value));

  async function init() {
    const got = await fillAdminOrgs(ctx, pick, body, err);
    if (!got) return;
    orgs = got.orgs;
    if (got.ids.length) list(got.ids[0]);
  }

  async function list(org) {
    err.set(null);
    let res;
    try {
      res = await api.get(`/api/v1/orgs/${enc(org)}/members`);
    } catch (e) {
      err.set(e);
      return;
    }
    const rows = (res.members || []).map((m) => {
      const sel = h('select', { 'aria-label': `Role of ${m.email}` }, roles.map((r) => h('option', { value: r }, r)));
      sel.value = m.role;
      sel.addEventListener('change', async () => {
        try {
          await api.patch(`/api/v1/orgs/${enc(org)}/members/${enc(m.user_id)}`, { role: sel.value });
          m.role = sel.value;
        } catch (e) {
          sel.value = m.role;
          err.set(e);
        }
      });
      const rm = h('button', { type: 'button', class: 'danger', onclick: async () => {
        if (!await confirmDialog(`Remove ${m.email} from ${orgs.get(org) || 'this organisation'}?`, 'Remove')) return;
        try {
          await api.del(`/api/v1/orgs/${enc(org)}/members/${enc(m.user_id)}`);
          list(org);
        } catch (e) {
          err.set(e);
        }
      } }, 'Remove');
      return h('tr', {}, h('td', {}, m.email || m.user_id), h('td', {}, sel), h('td', {}, m.user_id === ctx.me.user.id ? h('span', { class: 'muted' }, 'you') : rm));
    });
    clear(body, h('div', { class: 'card scroll' }, h('table', { id: 'members' }, h('thead', {}, h('tr', {}, h('th', {}, 'Email'), h('th', {}, 'Role'), h('th', {}))), h('tbody', {}, rows))),
      addForm(org), storageCard(org));
  }

  function addForm(org) {
    const e2 = errorBox();
    const email = h('input', { type: 'email', required: true, maxlength: 254 });
    const role = h('select', {}, roles.map((r) => h('option', { value: r, selected: r === 'viewer' }, r)));
    const pw = h('input', { type: 'password', autocomplete: 'new-password', minlength: 10, maxlength: 1024, placeholder: 'only for a new account' });
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Add member');
    const note = h('p', { class: 'info', hidden: true });
    const form = h('form', { class: 'card', onsubmit: (ev) => {
      ev.preventDefault();
      busy(submit, async () => {
        e2.set(null);
        note.hidden = true;
        const b = { email: email.value.trim(), role: role.value };
        if (pw.value) b.password = pw.value;
        try {
          const r = await api.post(`/api/v1/orgs/${enc(org)}/members`, b);
          if (r && r.invitation) {
            note.textContent = `Invited ${r.invitation.email}: the account joins when it accepts on its account page (within 7 days).`;
            note.hidden = false;
          }
          list(org);
        } catch (e) {
          e2.set(e.status === 404 ? 'No account has this email: give a password to create one.' : e);
        }
      });
    } }, h('h3', {}, 'Add a member'),
    h('div', { class: 'row wrap' }, h('label', {}, 'Email', email), h('label', {}, 'Role', role), h('label', {}, 'Password for a new account', pw)),
    e2, note, h('div', { class: 'row end' }, submit));
    return form;
  }

  const parts = [h('h2', {}, 'Members and roles'), err, h('label', { class: 'inline' }, 'Organisation ', pick), body];
  if (ctx.caps.createOrg) parts.push(orgForm());
  clear(main, parts);
  init();
  return null;
}

/** orgForm lets a platform admin create an organisation. */
function orgForm() {
  const err = errorBox();
  const name = h('input', { type: 'text', required: true, maxlength: 100 });
  const submit = h('button', { type: 'submit' }, 'Create organisation');
  return h('form', { class: 'card', onsubmit: (ev) => {
    ev.preventDefault();
    busy(submit, async () => {
      err.set(null);
      try {
        await api.post('/api/v1/orgs', { name: name.value.trim() });
        name.value = '';
        location.reload();
      } catch (e) {
        err.set(e);
      }
    });
  } }, h('h3', {}, 'New organisation'), h('div', { class: 'row wrap' }, h('label', {}, 'Name', name), submit), err);
}
