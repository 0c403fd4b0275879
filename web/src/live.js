// Keeps the state live from GET /api/events. Each event says what changed; the parts it touches
// are read again, at most once per 60 ms whatever the rate of events. A lost stream reconnects by
// itself (EventSource resends Last-Event-ID, and the daemon replays what was missed); a `reset`
// (the daemon restarted, or too much was missed) reads everything afresh.
import { addEvent, loadAll, loadSession, loadExecution, loadExecutions, loadJob, loadJobs, loadNodes, loadSystems, loadTopology, set, state } from './store.js';

const pending = new Set();
let timer;

function refresh(...parts) {
  for (const p of parts) pending.add(p);
  if (timer) return;
  timer = setTimeout(() => {
    timer = undefined;
    const parts = [...pending];
    pending.clear();
    if (parts.includes('all')) { void loadAll(); return; }
    if (parts.includes('nodes')) void loadNodes();
    if (parts.includes('topology')) void loadTopology();
    if (parts.includes('systems')) void loadSystems();
    if (parts.includes('executions')) void loadExecutions();
    if (parts.includes('execution')) void loadExecution(state.executionId);
    if (parts.includes('jobs')) void loadJobs();
    if (parts.includes('job')) void loadJob(state.jobId);
  }, 60);
}

const FINISHED = new Set(['succeeded', 'failed', 'cancelled', 'superseded']);
let source;
let retry;
let wasClosed = false;

export function connect() {
  if (source) source.close();
  clearTimeout(retry);
  set({ connection: 'connecting' });
  source = new EventSource('/api/events', { withCredentials: true });
  source.onopen = () => {
    set({ connection: 'live' });
    // A new stream (not a resumed one) may have missed changes while none was open.
    if (wasClosed) { wasClosed = false; refresh('all'); }
  };
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) {
      // The daemon answered with an error (or not with a stream): start a new one a little later.
      // A daemon restarted with a tokens file, or a session that expired: the page asks for a token.
      wasClosed = true;
      set({ connection: 'offline' });
      loadSession().then((session) => {
        if (session.role === null) disconnect();
        else retry = setTimeout(connect, 2000);
      }, () => { retry = setTimeout(connect, 2000); });
    } else {
      set({ connection: 'connecting' });
    }
  };
  source.addEventListener('execution', (m) => {
    const e = JSON.parse(m.data);
    addEvent('execution', e, m.lastEventId);
    refresh('executions');
    if (e.id === state.executionId) refresh('execution');
    if (FINISHED.has(e.status)) refresh('nodes', 'systems', 'topology');
  });
  source.addEventListener('action', (m) => {
    const e = JSON.parse(m.data);
    addEvent('action', e, m.lastEventId);
    refresh('executions');
    if (e.execution_id === state.executionId) refresh('execution');
    if (e.status === 'succeeded') refresh('nodes');
  });
  source.addEventListener('node', (m) => {
    const e = JSON.parse(m.data);
    addEvent('node', e, m.lastEventId);
    patchNode(e);
    refresh('nodes');
  });
  source.addEventListener('job', (m) => {
    const e = JSON.parse(m.data);
    addEvent('job', e, m.lastEventId);
    refresh('jobs');
    if (e.id === state.jobId) refresh('job');
  });
  source.addEventListener('reset', (m) => {
    addEvent('reset', JSON.parse(m.data), m.lastEventId);
    refresh('all', 'topology');
  });
}

/** What a node event says is shown at once; the read that follows brings the rest. */
function patchNode(e) {
  const i = (state.nodes ?? []).findIndex((n) => n.name === e.name);
  if (i < 0) return;
  const node = { ...state.nodes[i] };
  if (e.cordoned !== undefined) node.cordoned = e.cordoned;
  if (e.health === 'ready' || e.health === 'unreachable') node.health = e.health;
  node.schedulable = node.health === 'ready' && !node.cordoned && !node.draining;
  const nodes = [...state.nodes];
  nodes[i] = node;
  set({ nodes });
}

export function disconnect() {
  clearTimeout(retry);
  source?.close();
  source = undefined;
}
