import '../styles.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';
import { connect, disconnect } from './live.js';
import { changeCount, loadAll, loadExecution, loadJob, loadSession, set, state, subscribe } from './store.js';
import { html, setAppOrder } from './ui.js';
import { Overview } from './views/overview.js';
import { Nodes } from './views/nodes.js';
import { Apps } from './views/apps.js';
import { Executions } from './views/executions.js';
import { ExecutionDetail } from './views/execution.js';
import { Events } from './views/events.js';
import { JobDetail, Jobs } from './views/jobs.js';
import { Search } from './views/search.js';
import { Login } from './views/login.js';

const VIEWS = [
  ['overview', 'Overview'],
  ['nodes', 'Nodes'],
  ['apps', 'Apps & systems'],
  ['executions', 'Executions'],
  ['jobs', 'Jobs'],
  ['events', 'Events'],
];

function parseRoute() {
  const [path, query = ''] = location.hash.replace(/^#\/?/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { view: parts[0] || 'overview', id: parts[1], query: new URLSearchParams(query) };
}

function useStore() {
  const [, setTick] = useState(0);
  const drawn = changeCount();
  useEffect(() => {
    const unsubscribe = subscribe(() => setTick((t) => t + 1));
    // Effects run after the frame is drawn (in a background tab, with no frames, 100 ms later): a
    // change made before, such as the first GET /ui/session answering, would otherwise never be drawn.
    if (changeCount() !== drawn) setTick((t) => t + 1);
    return unsubscribe;
  }, []);
  return state;
}

function useRoute() {
  const [route, setRoute] = useState(parseRoute());
  useEffect(() => {
    const on = () => setRoute(parseRoute());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

function Connection({ state: s }) {
  const text = { live: 'Live', connecting: 'Reconnecting…', offline: 'Offline: retrying' }[s];
  return html`<span class=${`conn conn-${s}`} role="status" aria-live="polite" data-connection=${s}><span class="dot"></span>${text}</span>`;
}

function SearchBox() {
  const [q, setQ] = useState('');
  const submit = (e) => {
    e.preventDefault();
    if (q.trim()) location.hash = `#/search?q=${encodeURIComponent(q.trim())}`;
  };
  return html`<form class="search" role="search" onSubmit=${submit}>
    <label class="sr-only" for="search">Search by execution id, container or tier</label>
    <input id="search" type="search" placeholder="Execution id, container or tier" value=${q} onInput=${(e) => setQ(e.target.value)} autocomplete="off" />
  </form>`;
}

function App() {
  const s = useStore();
  const route = useRoute();
  const executionId = route.view === 'executions' ? route.id : undefined;
  useEffect(() => {
    if (state.executionId !== executionId) {
      set({ executionId, execution: undefined });
      if (executionId) void loadExecution(executionId);
    }
  }, [executionId]);
  const jobId = route.view === 'jobs' ? route.id : undefined;
  useEffect(() => {
    if (state.jobId !== jobId) {
      set({ jobId, job: undefined });
      if (jobId) void loadJob(jobId);
    }
  }, [jobId]);
  useEffect(() => {
    setAppOrder((s.topology?.apps ?? []).map((a) => a.name));
  }, [s.topology]);

  if (s.session === undefined) return html`<p class="boot">Loading…</p>`;
  if (s.session.role === null) return html`<${Login} />`;
  const canChange = s.session.role === 'admin';
  const logout = async () => {
    await api('DELETE', '/ui/session').catch(() => undefined);
    disconnect();
    set({ session: { auth: 'tokens', role: null } });
  };
  let view;
  switch (route.view) {
    case 'nodes': view = html`<${Nodes} s=${s} canChange=${canChange} />`; break;
    case 'apps': view = html`<${Apps} s=${s} />`; break;
    case 'executions': view = route.id ? html`<${ExecutionDetail} s=${s} id=${route.id} canChange=${canChange} />` : html`<${Executions} s=${s} />`; break;
    case 'jobs': view = route.id ? html`<${JobDetail} s=${s} id=${route.id} canChange=${canChange} />` : html`<${Jobs} s=${s} />`; break;
    case 'events': view = html`<${Events} s=${s} />`; break;
    case 'search': view = html`<${Search} s=${s} q=${route.query.get('q') ?? ''} />`; break;
    default: view = html`<${Overview} s=${s} />`;
  }
  return html`
    <a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById('main').focus(); }}>Skip to content</a>
    <header class="top">
      <a class="brand" href="#/"><span class="logo" aria-hidden="true"></span><span>ecoware<span class="brand-dim">-executor</span></span></a>
      <${SearchBox} />
      <div class="top-right">
        <${Connection} state=${s.connection} />
        ${s.session.auth === 'tokens' ? html`<span class="role" title="the role of this session">${s.session.role}</span><button class="btn btn-ghost" onClick=${logout}>Sign out</button>` : null}
      </div>
    </header>
    <div class="shell">
      <nav class="side" aria-label="Views">
        ${VIEWS.map(([id, label]) => html`<a href=${`#/${id}`} class=${route.view === id ? 'active' : ''} aria-current=${route.view === id ? 'page' : undefined}>${label}</a>`)}
      </nav>
      <main id="main" tabindex="-1">${view}</main>
    </div>`;
}

async function start() {
  const root = document.getElementById('root');
  render(html`<${App} />`, root);
  // Whether the daemon wants a token is its answer alone: while it does not answer, the page says
  // it is offline and asks again, rather than guessing.
  for (;;) {
    try {
      const session = await loadSession();
      if (session.role !== null) begin();
      return;
    } catch {
      set({ connection: 'offline' });
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

let begun = false;
/** Once signed in (or at once without tokens): read everything, then follow the stream. */
export function begin() {
  if (begun) { void loadAll(); connect(); return; }
  begun = true;
  connect();
  void loadAll();
  // The "x min ago" texts age without events.
  setInterval(() => set({}), 15000);
}

void start();
