// account.js: the user's own account: change password, enrol TOTP (the QR
// code is drawn in the browser by the vendored qrcode-generator) and API
// keys (the key is shown once).
import qrcode from '../vendor/qrcode.mjs';
import { api, enc } from './api.js';
import { h, clear, errorBox, fmtTime, confirmDialog, secretDialog, busy } from './dom.js';
import { livePreference, setLivePreference } from './player.js';

function passwordForm() {
  const err = errorBox();
  const ok = h('p', { class: 'info', hidden: true }, 'Password changed.');
  const old = h('input', { type: 'password', autocomplete: 'current-password', required: true, maxlength: 1024 });
  const nw = h('input', { type: 'password', autocomplete: 'new-password', required: true, minlength: 10, maxlength: 1024 });
  const again = h('input', { type: 'password', autocomplete: 'new-password', required: true, minlength: 10, maxlength: 1024 });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Change password');
  const form = h('form', { class: 'card', onsubmit: (e) => {
    e.preventDefault();
    ok.hidden = true;
    if (nw.value !== again.value) {
      err.set('The new passwords differ.');
      return;
    }
    busy(submit, async () => {
      err.set(null);
      try {
        await api.post('/api/v1/me/password', { old_password: old.value, new_password: nw.value });
        form.reset();
        ok.hidden = false;
      } catch (e2) {
        err.set(e2);
      }
    });
  } }, h('h3', {}, 'Password'),
  h('div', { class: 'row wrap' }, h('label', {}, 'Current password', old), h('label', {}, 'New password (10 characters or more)', nw), h('label', {}, 'New password again', again)),
  err, ok, h('div', { class: 'row end' }, submit));
  return form;
}

/** qrImage draws text as a QR code image (a data: URL, no network). */
function qrImage(text) {
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  return h('img', { src: qr.createDataURL(5, 10), alt: 'QR code for your authenticator app', class: 'qr', id: 'totp-qr' });
}

/** totpManage makes recovery codes (current password) or turns TOTP off (a
 * current code or a recovery code). */
function totpManage(refresh) {
  const err = errorBox();
  const secret = h('input', { type: 'password', maxlength: 1024, id: 'totp-manage-input', autocomplete: 'off' });
  const codes = h('button', { type: 'button', id: 'totp-recovery' }, 'Make recovery codes (current password)');
  const off = h('button', { type: 'button', class: 'danger', id: 'totp-disable' }, 'Turn off (TOTP or recovery code)');
  codes.addEventListener('click', () => busy(codes, async () => {
    err.set(null);
    try {
      const r = await api.post('/api/v1/me/totp/recovery-codes', { password: secret.value });
      secret.value = '';
      secretDialog('Recovery codes', 'Each code logs you in once instead of a TOTP code. They are shown only now; earlier codes no longer work.',
        [['Codes', r.recovery_codes.join('  ')]]);
    } catch (e) {
      err.set(e);
    }
  }));
  off.addEventListener('click', () => busy(off, async () => {
    err.set(null);
    try {
      await api.post('/api/v1/me/totp/disable', { code: secret.value.trim() });
      await refresh();
    } catch (e) {
      err.set(e.code === 'bad_totp' ? 'The code is not right.' : e);
    }
  }));
  return h('div', {}, h('div', { class: 'row wrap' }, h('label', {}, 'Password or code', secret), codes, off), err);
}

function totpCard(me, refresh) {
  const card = h('div', { class: 'card', id: 'totp-card' }, h('h3', {}, 'Two-factor authentication (TOTP)'));
  if (me.user.totp_enabled) {
    card.append(h('p', { id: 'totp-status' }, 'Enabled: logging in asks for a code from your authenticator app.'), totpManage(refresh));
    return card;
  }
  const err = errorBox();
  const pw = h('input', { type: 'password', autocomplete: 'current-password', maxlength: 1024, id: 'totp-password' });
  const pwLabel = h('label', {}, 'Current password', pw);
  const start = h('button', { type: 'button', class: 'primary', id: 'totp-begin' }, 'Set up TOTP');
  const body = h('div');
  start.addEventListener('click', () => busy(start, async () => {
    err.set(null);
    try {
      const r = await api.post('/api/v1/me/totp', { password: pw.value });
      pw.value = '';
      pwLabel.hidden = true;
      const code = h('input', { type: 'text', inputmode: 'numeric', pattern: '[0-9]{6}', maxlength: 6, required: true, id: 'totp-code', autocomplete: 'one-time-code' });
      const confirm = h('button', { type: 'submit', class: 'primary', id: 'totp-confirm' }, 'Confirm');
      start.hidden = true;
      clear(body,
        h('p', {}, 'Scan this code with your authenticator app, or type the secret, then enter the 6-digit code it shows.'),
        qrImage(r.otpauth_url),
        h('p', { class: 'mono', id: 'totp-secret', 'data-url': r.otpauth_url }, r.secret),
        h('form', { class: 'row', onsubmit: (e) => {
          e.preventDefault();
          busy(confirm, async () => {
            err.set(null);
            try {
              await api.post('/api/v1/me/totp/confirm', { code: code.value.trim() });
              await refresh();
            } catch (e2) {
              err.set(e2.code === 'bad_totp' ? 'The code is not right. Check the time on your phone and try the next code.' : e2);
            }
          });
        } }, h('label', {}, 'Code', code), confirm));
    } catch (e) {
      err.set(e);
    }
  }));
  card.append(h('p', {}, 'Not enabled. With TOTP, logging in also needs a code from an app on your phone.'), h('div', { class: 'row wrap' }, pwLabel, start), body, err);
  return card;
}

function keysCard() {
  const err = errorBox();
  const list = h('div', { class: 'scroll' });
  const name = h('input', { type: 'text', required: true, maxlength: 100, placeholder: 'e.g. backup script' });
  const scope = h('select', {}, h('option', { value: 'full' }, 'full (all you may do)'), h('option', { value: 'read' }, 'read only (GET)'));
  const submit = h('button', { type: 'submit' }, 'Create key');
  async function load() {
    try {
      const res = await api.get('/api/v1/me/api-keys');
      const rows = (res.api_keys || []).map((k) => h('tr', {}, h('td', {}, k.name), h('td', { class: 'mono' }, `${k.prefix}…`), h('td', {}, k.scope || 'full'), h('td', {}, fmtTime(k.created_at)),
        h('td', {}, k.last_used ? fmtTime(k.last_used) : 'never'),
        h('td', {}, h('button', { type: 'button', class: 'danger', onclick: async () => {
          if (!await confirmDialog(`Delete API key "${k.name}"? Scripts using it stop working.`)) return;
          try {
            await api.del(`/api/v1/me/api-keys/${enc(k.id)}`);
            load();
          } catch (e) {
            err.set(e);
          }
        } }, 'Delete'))));
      clear(list, rows.length ? h('table', {}, h('thead', {}, h('tr', {}, ['Name', 'Key', 'Scope', 'Created', 'Last used', ''].map((t) => h('th', {}, t)))), h('tbody', {}, rows))
        : h('p', { class: 'muted' }, 'No API keys.'));
    } catch (e) {
      err.set(e);
    }
  }
  load();
  return h('div', { class: 'card' }, h('h3', {}, 'API keys'),
    h('p', { class: 'muted small' }, 'What the API offers: ', h('a', { href: '#/api', id: 'api-reference' }, 'API reference'), '.'),
    h('p', { class: 'muted small' }, 'Use a key as "Authorization: Bearer KEY" in scripts. It acts with your permissions (read only: only reads), and cannot make keys.'), list,
    h('form', { class: 'row wrap', onsubmit: (e) => {
      e.preventDefault();
      busy(submit, async () => {
        err.set(null);
        try {
          const r = await api.post('/api/v1/me/api-keys', { name: name.value.trim(), scope: scope.value });
          name.value = '';
          secretDialog(`API key "${r.api_key.name}"`, 'This key is shown only now. Store it somewhere safe.', [['Key', r.key]]);
          load();
        } catch (e2) {
          err.set(e2);
        }
      });
    } }, h('label', {}, 'Name', name), h('label', {}, 'Scope', scope), submit), err);
}

/** invitationsCard lists the organisations that invited this account. */
function invitationsCard(refresh) {
  const err = errorBox();
  const list = h('div', { id: 'invitations' });
  async function load() {
    try {
      const res = await api.get('/api/v1/invitations');
      const answer = async (inv, verb) => {
        try {
          await api.post(`/api/v1/invitations/${enc(inv.id)}/${verb}`);
          if (verb === 'accept') await refresh();
          else load();
        } catch (e) {
          err.set(e);
        }
      };
      const rows = (res.invitations || []).map((inv) => h('tr', {}, h('td', {}, inv.org_name || inv.org_id), h('td', {}, inv.role), h('td', {}, fmtTime(inv.expires_at)),
        h('td', {}, h('button', { type: 'button', class: 'primary', onclick: () => answer(inv, 'accept') }, 'Accept'),
          h('button', { type: 'button', onclick: () => answer(inv, 'decline') }, 'Decline'))));
      clear(list, rows.length ? h('table', {}, h('thead', {}, h('tr', {}, ['Organisation', 'Role', 'Until', ''].map((t) => h('th', {}, t)))), h('tbody', {}, rows))
        : h('p', { class: 'muted' }, 'No invitations.'));
    } catch (e) {
      err.set(e);
    }
  }
  load();
  return h('div', { class: 'card' }, h('h3', {}, 'Invitations'), list, err);
}

/** liveCard chooses how this browser plays live video. */
function liveCard() {
  const sel = h('select', { id: 'live-pref' }, h('option', { value: 'auto' }, 'Automatic: WebRTC, then HLS'), h('option', { value: 'hls' }, 'HLS only (for networks that block WebRTC)'));
  sel.value = livePreference();
  sel.addEventListener('change', () => setLivePreference(sel.value));
  return h('div', { class: 'card' }, h('h3', {}, 'Live video in this browser'), h('label', { class: 'inline' }, 'Play live video over ', sel));
}

/** showAccount renders the account page. */
export function showAccount(main, ctx) {
  function render() {
    clear(main, h('h2', {}, 'Your account'), h('p', {}, 'Logged in as ', h('strong', {}, ctx.me.user.email),
      ctx.me.expires_at ? ` until ${fmtTime(ctx.me.expires_at)}` : ''),
    passwordForm(), totpCard(ctx.me, async () => {
      ctx.me = await api.get('/api/v1/me');
      render();
    }), invitationsCard(async () => {
      ctx.me = await api.get('/api/v1/me');
      render();
    }), keysCard(), liveCard());
  }
  render();
  return null;
}
