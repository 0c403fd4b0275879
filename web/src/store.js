// The page's state: what the JSON routes answered, refreshed when the event stream says it changed.
import { api, ApiError } from './api.js';

export const state = {
  session: undefined,      // {auth: 'none'|'tokens', role: 'admin'|'read'|null}
  connection: 'connecting', // 'live' | 'connecting' | 'offline'
  nodes: undefined,        // GET /api/nodes (null: no topology yet)
  topology: undefined,     // GET /api/topology
  systems: undefined,      // GET /api/systems
  systemDetails: {},       // sid -> GET /api/systems/:sid
  executions: undefined,   // GET /api/executions?… (the list view's page)
  executionQuery: { kind: '', status: '', offset: 0 },
  active: undefined,       // queued and running executions
  latest: undefined,       // the newest execution, with its actions (GET /api/executions/:id)
  execution: undefined,    // the one the detail view shows
  executionId: undefined,
  jobs: undefined,         // GET /api/jobs?… (newest first)
  jobQuery: { status: '', template: '' },
  jobTemplates: undefined, // GET /api/job-templates
  job: undefined,          // the one the job view shows
  jobId: undefined,
  events: [],              // the stream, newest first (at most MAX_EVENTS)
  eventCounts: {},
  errors: {},              // what failed to load, by part
  updatedAt: undefined,
};

export const MAX_EVENTS = 500;
export const PAGE_SIZE = 50;
const listeners = new Set();

export function subscribe(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

let notifyQueued = false;
let changes = 0;

/** How many times the state has changed: a view that subscribes late compares it with what it drew. */
export function changeCount() {
  return changes;
}

export function notify() {
  changes += 1;
  if (notifyQueued) return;
  notifyQueued = true;
  queueMicrotask(() => {
    notifyQueued = false;
    for (const l of [...listeners]) l();
  });
}

export function set(patch) {
  Object.assign(state, patch);
  notify();
}

async function load(part, fn) {
  try {
    const value = await fn();
    delete state.errors[part];
    return value;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      state.session = { ...(state.session ?? {}), role: null };
      notify();
    }
    state.errors[part] = e.message;
    notify();
    throw e;
  }
}

export async function loadSession() {
  const session = await api('GET', '/ui/session');
  set({ session });
  return session;
}

export async function loadNodes() {
  try {
    const fresh = await load('nodes', () => api('GET', '/api/nodes'));
    // A node that did not change keeps its object, so its card is not drawn again.
    const before = new Map((state.nodes ?? []).map((n) => [n.name, n]));
    const nodes = fresh.map((n) => {
      const old = before.get(n.name);
      if (!old || !sameNode(old, n)) return n;
      // Shown the next time the card is drawn.
      old.last_seen = n.last_seen;
      old.ping_ms = n.ping_ms;
      return old;
    });
    set({ nodes, updatedAt: new Date() });
  } catch (e) {
    if (e instanceof ApiError && e.status === 409) set({ nodes: null });
  }
}

/** Equal but for when the engine last answered (which changes at every ping). */
function sameNode(a, b) {
  const strip = ({ last_seen, ping_ms, ...rest }) => rest;
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}

export async function loadTopology() {
  try {
    set({ topology: await load('topology', () => api('GET', '/api/topology')) });
  } catch (e) {
    if (e instanceof ApiError && e.status === 409) set({ topology: null });
  }
}

export async function loadSystems() {
  try {
    const systems = await load('systems', () => api('GET', '/api/systems'));
    set({ systems });
    // Readiness of each system that is shown opened (and of all, when few).
    const wanted = systems.length <= 10 ? systems.map((s) => s.sid) : Object.keys(state.systemDetails);
    await Promise.all(wanted.map((sid) => loadSystem(sid).catch(() => undefined)));
  } catch { /* shown from state.errors */ }
}

export async function loadSystem(sid) {
  const detail = await api('GET', `/api/systems/${encodeURIComponent(sid)}`);
  state.systemDetails = { ...state.systemDetails, [sid]: detail };
  notify();
}

export async function loadExecutions() {
  const q = state.executionQuery;
  const params = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(q.offset) });
  if (q.kind) params.set('kind', q.kind);
  if (q.status) params.set('status', q.status);
  try {
    const [page, active] = await Promise.all([
      load('executions', () => api('GET', `/api/executions?${params}`)),
      load('active', () => api('GET', '/api/executions?status=running,queued&limit=100')),
    ]);
    set({ executions: page, active });
    await loadLatest(page, active);
  } catch { /* shown from state.errors */ }
}

/** The newest execution with its actions, for the overview. */
async function loadLatest(page, active) {
  const newest = active.objects[0] ?? (state.executionQuery.kind || state.executionQuery.status || state.executionQuery.offset ? undefined : page.objects[0]);
  let id = newest?.id;
  if (!id) {
    const one = await api('GET', '/api/executions?limit=1');
    id = one.objects[0]?.id;
  }
  if (!id) { set({ latest: null }); return; }
  set({ latest: await api('GET', `/api/executions/${encodeURIComponent(id)}`) });
}

export async function loadExecution(id) {
  if (!id) return;
  try {
    const execution = await load('execution', () => api('GET', `/api/executions/${encodeURIComponent(id)}`));
    if (state.executionId === id) set({ execution });
  } catch (e) {
    if (state.executionId === id) set({ execution: null });
  }
}

/** A list answer: the array itself or the array inside an envelope. */
function listOf(answer) {
  if (Array.isArray(answer)) return answer;
  for (const key of ['objects', 'items', 'jobs', 'templates']) if (Array.isArray(answer?.[key])) return answer[key];
  return [];
}

export async function loadJobs() {
  const q = state.jobQuery;
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (q.status) params.set('status', q.status);
  if (q.template) params.set('template', q.template);
  try {
    const [jobs, templates] = await Promise.all([
      load('jobs', () => api('GET', `/api/jobs?${params}`)),
      load('jobTemplates', () => api('GET', '/api/job-templates')),
    ]);
    set({ jobs: listOf(jobs), jobTemplates: listOf(templates) });
  } catch { /* shown from state.errors */ }
}

export async function loadJob(id) {
  if (!id) return;
  try {
    const job = await load('job', () => api('GET', `/api/jobs/${encodeURIComponent(id)}`));
    if (state.jobId === id) set({ job });
  } catch (e) {
    if (state.jobId === id) set({ job: null });
  }
}

export function loadAll() {
  return Promise.all([loadNodes(), loadTopology(), loadSystems(), loadExecutions(), loadExecution(state.executionId), loadJobs(), loadJob(state.jobId)]);
}

export function addEvent(type, data, id) {
  const event = { type, id, ...data };
  state.events = [event, ...state.events].slice(0, MAX_EVENTS);
  state.eventCounts = { ...state.eventCounts, [type]: (state.eventCounts[type] ?? 0) + 1 };
  notify();
}
