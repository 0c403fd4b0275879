// Small pieces every view uses: the html tag, badges, bars, times, colours of tiers.
import { Component, h } from 'preact';
import htm from 'htm';

export const html = htm.bind(h);

export function ago(iso) {
  if (!iso) return '';
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function time(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function clock(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function duration(ms) {
  if (ms === undefined || ms === null || !Number.isFinite(ms)) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;
}

export function executionDuration(e) {
  if (!e.started_at) return '';
  const end = e.finished_at ? Date.parse(e.finished_at) : Date.now();
  return duration(end - Date.parse(e.started_at));
}

const STATUS_TONE = {
  succeeded: 'ok', ready: 'ok', running: 'info', queued: 'muted', pending: 'muted', failed: 'bad', unreachable: 'bad',
  lost: 'bad', cancelled: 'warn', superseded: 'muted', skipped: 'muted', cordoned: 'warn', draining: 'warn',
  starting: 'info', deleting: 'warn', timed_out: 'bad', validating: 'info', rejected: 'bad', healthy: 'ok', unhealthy: 'bad', exited: 'bad', created: 'muted',
};

export function Badge({ status, label, tone }) {
  return html`<span class=${`badge tone-${tone ?? STATUS_TONE[status] ?? 'muted'}`}>${label ?? status}</span>`;
}

// A fixed palette (distinct in hue, readable white text); an app keeps one hue, its tiers shades of it.
const HUES = [212, 152, 28, 280, 352, 188, 48, 248, 100, 320];
function hash(s) {
  let x = 0;
  for (let i = 0; i < s.length; i++) x = (x * 31 + s.charCodeAt(i)) | 0;
  return Math.abs(x);
}

/** Apps in the order of the topology (so colours stay put), else by name. */
let appOrder = [];
export function setAppOrder(apps) { appOrder = apps; }

export function colourOf(app, tier) {
  const i = appOrder.indexOf(app);
  const hue = HUES[(i >= 0 ? i : hash(app)) % HUES.length];
  const shade = hash(tier) % 3;
  return `hsl(${hue} ${[62, 50, 70][shade]}% ${[42, 32, 52][shade]}%)`;
}

/** `rubis_db` -> {app: 'rubis', tier: 'db'}, reading the topology's apps for names with underscores. */
export function splitTier(flat, apps) {
  for (const app of apps ?? []) {
    if (flat.startsWith(`${app}_`)) return { app, tier: flat.slice(app.length + 1) };
  }
  const i = flat.indexOf('_');
  return i > 0 ? { app: flat.slice(0, i), tier: flat.slice(i + 1) } : { app: flat, tier: flat };
}

/** One stacked bar: segments {key, label, value, colour} against a total. */
export function StackedBar({ segments, total, unit, label }) {
  const used = segments.reduce((s, x) => s + x.value, 0);
  const pct = (v) => (total > 0 ? Math.min(100, (v / total) * 100) : 0);
  return html`<div class="stack">
    <div class="stack-head"><span>${label}</span><span class="num">${fmt(used)} / ${fmt(total)} ${unit}</span></div>
    <div class="stack-bar" role="img" aria-label=${`${label}: ${fmt(used)} of ${fmt(total)} ${unit} allocated${segments.length ? `: ${segments.map((s) => `${s.label} ${fmt(s.value)}`).join(', ')}` : ''}`}>
      ${segments.filter((s) => s.value > 0).map((s) => html`<span class="seg" style=${`width:${pct(s.value)}%;background:${s.colour}`} title=${`${s.label}: ${fmt(s.value)} ${unit}`}></span>`)}
    </div>
  </div>`;
}

export function Meter({ used, total, label, unit }) {
  const pct = total > 0 ? Math.min(100, (used / total) * 100) : 0;
  return html`<div class="meter">
    <div class="stack-head"><span>${label}</span><span class="num">${fmt(used)} / ${fmt(total)} ${unit ?? ''}</span></div>
    <div class="stack-bar" role="img" aria-label=${`${label}: ${fmt(used)} of ${fmt(total)}`}><span class="seg" style=${`width:${pct}%;background:var(--accent)`}></span></div>
  </div>`;
}

export function fmt(n) {
  return Number.isInteger(n) ? String(n) : (Math.round(n * 100) / 100).toString();
}

export function Empty({ children }) {
  return html`<div class="empty">${children}</div>`;
}

export function ErrorNote({ message }) {
  return message ? html`<div class="note note-bad" role="alert">${message}</div>` : null;
}

export function shortId(id) {
  return id && id.length > 22 ? `${id.slice(0, 19)}…${id.slice(-6)}` : id;
}

/** A component drawn again only when one of its props is another value (preact/compat's memo, without compat). */
export function memo(fn) {
  return class Memo extends Component {
    shouldComponentUpdate(next) {
      for (const k in next) if (next[k] !== this.props[k]) return true;
      for (const k in this.props) if (!(k in next)) return true;
      return false;
    }

    render(props) {
      return h(fn, props);
    }
  };
}
