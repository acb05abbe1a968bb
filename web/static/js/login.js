// login.js: the login screen, with the second step asking for the TOTP
// code when the account has it enrolled.
import { api } from './api.js';
import { h, clear, errorBox, busy } from './dom.js';

/**
 * showLogin renders the login form into main and calls onDone after a
 * successful login. note is an optional message (session expired ...).
 */
export function showLogin(main, onDone, note) {
  const err = errorBox();
  const email = h('input', { type: 'email', name: 'email', id: 'login-email', autocomplete: 'username', required: true, maxlength: 254 });
  const password = h('input', { type: 'password', name: 'password', id: 'login-password', autocomplete: 'current-password', required: true, maxlength: 1024 });
  const totp = h('input', { type: 'text', name: 'totp', id: 'login-totp', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}', maxlength: 6 });
  const totpRow = h('label', { hidden: true }, 'Code from your authenticator app', totp);
  const submit = h('button', { type: 'submit', class: 'primary', id: 'login-submit' }, 'Log in');
  const form = h('form', { class: 'card narrow', id: 'login-form', onsubmit: (e) => {
    e.preventDefault();
    busy(submit, async () => {
      err.set(null);
      const body = { email: email.value.trim(), password: password.value };
      if (!totpRow.hidden) body.totp = totp.value.trim();
      try {
        await api.post('/api/v1/auth/login', body);
        password.value = '';
        onDone();
      } catch (e2) {
        if (e2.code === 'totp_required') {
          totpRow.hidden = false;
          email.readOnly = true;
          totp.required = true;
          totp.focus();
          err.set('Enter the 6-digit code from your authenticator app.');
          return;
        }
        err.set(e2.code === 'unauthorized' ? 'The email, password or code is not right.' : e2);
      }
    });
  } },
  h('h1', {}, 'Log in to camcloud'),
  note ? h('p', { class: 'info', id: 'login-note' }, note) : null,
  h('label', {}, 'Email', email),
  h('label', {}, 'Password', password),
  totpRow,
  err,
  h('div', { class: 'row end' }, submit));
  clear(main, form);
  email.focus();
}
