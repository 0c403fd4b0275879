import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { set } from '../store.js';
import { html } from '../ui.js';
import { begin } from '../main.js';

export function Login() {
  const [token, setToken] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const session = await api('POST', '/ui/session', { token });
      set({ session });
      begin();
    } catch (err) {
      setError(err.status === 401 ? 'That token is not known to the daemon.' : err.message);
    } finally {
      setBusy(false);
    }
  };
  return html`<div class="login-wrap"><form class="login card" onSubmit=${submit}>
    <div class="brand brand-dark"><span class="logo" aria-hidden="true"></span><span>ecoware<span class="brand-dim">-executor</span></span></div>
    <h1>Sign in</h1>
    <p class="muted">The daemon has a tokens file. Paste an <b>admin</b> or <b>read</b> token; the page keeps a session for 12 hours.</p>
    <label for="token">Token</label>
    <input id="token" type="password" autocomplete="current-password" value=${token} onInput=${(e) => setToken(e.target.value)} required autofocus />
    ${error ? html`<div class="note note-bad" role="alert">${error}</div>` : null}
    <button class="btn btn-primary" type="submit" disabled=${busy || !token}>Sign in</button>
  </form></div>`;
}
