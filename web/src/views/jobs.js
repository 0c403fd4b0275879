import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { loadJob, loadJobs, set, state } from '../store.js';
import { ago, Badge, duration, Empty, ErrorNote, html, time } from '../ui.js';

const STATUSES = ['queued', 'starting', 'running', 'succeeded', 'failed', 'timed_out', 'cancelled'];
const ACTIVE = new Set(['queued', 'starting', 'running']);

function query(patch) {
  set({ jobQuery: { ...state.jobQuery, ...patch } });
  void loadJobs();
}

function ran(job) {
  if (!job.started_at) return '–';
  const end = job.finished_at ? Date.parse(job.finished_at) : Date.now();
  return duration(end - Date.parse(job.started_at));
}

/** Jobs, newest first: what waits and why, what runs where, how each ended. */
export function Jobs({ s }) {
  const jobs = s.jobs;
  const q = s.jobQuery;
  const queued = (jobs ?? []).filter((j) => j.status === 'queued');
  return html`<div class="page">
    <div class="page-head">
      <h1>Jobs <span class="count">${jobs?.length ?? 0}</span></h1>
      <div class="filters">
        <label>Status <select value=${q.status} onChange=${(e) => query({ status: e.target.value })}>
          <option value="">any</option>${STATUSES.map((k) => html`<option value=${k}>${k}</option>`)}
        </select></label>
        <label>Template <select value=${q.template} onChange=${(e) => query({ template: e.target.value })}>
          <option value="">any</option>${(s.jobTemplates ?? []).map((t) => html`<option value=${t.name}>${t.name}</option>`)}
        </select></label>
      </div>
    </div>
    <${ErrorNote} message=${s.errors.jobs} />
    ${queued.length > 0 && !q.status ? html`<p class="muted small">${queued.length} queued; the oldest since ${ago(queued[queued.length - 1].created_at)}.</p>` : null}
    ${!jobs ? html`<p class="muted">Loading…</p>` : jobs.length === 0 ? html`<${Empty}>No job${q.status || q.template ? ' matches' : ' yet'}.<//>` : html`
    <div class="table-wrap"><table class="table jobs">
      <thead><tr><th>Job</th><th>Template</th><th>Status</th><th>Node</th><th>Submitted</th><th class="num">Ran</th></tr></thead>
      <tbody>${jobs.map((j) => {
        return html`<tr data-job=${j.id}>
          <td><a class="mono" href=${`#/jobs/${encodeURIComponent(j.id)}`}>${j.id}</a>${j.reason && j.status !== 'succeeded' ? html`<div class=${`small clip ${j.status === 'queued' ? 'muted' : 'bad-text'}`} title=${j.reason}>${j.never_fits ? 'never fits: ' : ''}${j.reason}${j.exit_code !== undefined ? ` (exit code ${j.exit_code})` : ''}</div>` : null}</td>
          <td>${j.template}</td>
          <td><${Badge} status=${j.status} />${j.position !== undefined && j.status === 'queued' ? html` <span class="muted small">#${j.position}</span>` : null}</td>
          <td>${j.node ?? html`<span class="muted">–</span>`}</td>
          <td title=${j.created_at}>${ago(j.created_at)}</td>
          <td class="num">${ran(j)}</td>
        </tr>`;
      })}</tbody>
    </table></div>`}
    <h2>Templates</h2>
    ${!s.jobTemplates ? html`<p class="muted">Loading…</p>` : s.jobTemplates.length === 0 ? html`<${Empty}>No job template.<//>` : html`
    <div class="table-wrap"><table class="table templates">
      <thead><tr><th>Template</th><th>Status</th><th>Image</th><th class="num">Cores</th><th class="num">Memory units</th><th class="num">Max concurrent</th></tr></thead>
      <tbody>${s.jobTemplates.map((t) => html`<tr data-template=${t.name}>
        <td>${t.name}${t.reason ? html`<div class="small muted clip" title=${t.reason}>${t.reason}</div>` : null}</td>
        <td><${Badge} status=${t.status} /></td>
        <td class="mono small">${t.image ?? t.built_image ?? '–'}</td>
        <td class="num">${t.cpu_cores ?? 1}</td>
        <td class="num">${t.mem_units ?? 1}</td>
        <td class="num">${t.max_concurrent ?? '–'}</td>
      </tr>`)}</tbody>
    </table></div>`}
  </div>`;
}

function Logs({ id, active }) {
  const [logs, setLogs] = useState({ stdout: undefined, stderr: undefined });
  useEffect(() => {
    let stop = false;
    const read = async () => {
      const [stdout, stderr] = await Promise.all(['stdout', 'stderr'].map((stream) =>
        fetch(`/api/jobs/${encodeURIComponent(id)}/logs?stream=${stream}&tail=500`, { credentials: 'same-origin' })
          .then((r) => (r.ok ? r.text() : ''), () => '')));
      if (!stop) setLogs({ stdout, stderr });
    };
    void read();
    // While the job runs its output grows: read again now and then.
    const timer = active ? setInterval(read, 2000) : undefined;
    return () => { stop = true; clearInterval(timer); };
  }, [id, active]);
  return html`
    <h2>Output</h2>
    <div class="small muted">stdout</div><pre class="out" data-stream="stdout">${logs.stdout === undefined ? 'Loading…' : logs.stdout || '(empty)'}</pre>
    <div class="small muted">stderr</div><pre class="out out-err" data-stream="stderr">${logs.stderr === undefined ? 'Loading…' : logs.stderr || '(empty)'}</pre>`;
}

/** One job: its attempts, its output file, its logs; cancel while it has not ended. */
export function JobDetail({ s, id, canChange }) {
  const j = s.job;
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const cancel = async () => {
    setBusy(true);
    setError('');
    try {
      await api('POST', `/api/jobs/${encodeURIComponent(id)}/cancel`);
      await loadJob(id);
      void loadJobs();
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  };
  if (j === undefined) return html`<div class="page"><p class="muted">Loading ${id}…</p></div>`;
  if (j === null) return html`<div class="page"><h1>Job</h1><div class="note note-bad">Job <code>${id}</code> is not known to the daemon.</div><a href="#/jobs">All jobs</a></div>`;
  const active = ACTIVE.has(j.status);
  return html`<div class="page">
    <div class="page-head">
      <h1>Job <span class="mono">${j.id}</span> <${Badge} status=${j.status} /></h1>
      ${canChange && active ? html`<button class="btn btn-danger" disabled=${busy} onClick=${cancel}>Cancel</button>` : null}
    </div>
    <${ErrorNote} message=${error} />
    <dl class="facts">
      <div><dt>Template</dt><dd>${j.template}</dd></div>
      <div><dt>Submitted</dt><dd title=${j.created_at}>${time(j.created_at)}</dd></div>
      <div><dt>Finished</dt><dd>${time(j.finished_at) || '–'}</dd></div>
      <div><dt>Ran</dt><dd>${ran(j)}</dd></div>
      ${j.exit_code !== undefined ? html`<div><dt>Exit code</dt><dd>${j.exit_code}</dd></div>` : null}
      ${j.reason ? html`<div><dt>${j.status === 'queued' ? 'Waiting because' : 'Reason'}</dt><dd>${j.never_fits ? 'never fits: ' : ''}${j.reason}${j.message ? ` — ${j.message}` : ''}</dd></div>` : null}
    </dl>
    <h2>Attempts</h2>
    ${!j.attempts?.length ? html`<p class="muted small">None yet.</p>` : html`<div class="table-wrap"><table class="table attempts">
      <thead><tr><th>#</th><th>Node</th><th>Container</th><th>Started</th><th class="num">Ran</th><th>Ended</th></tr></thead>
      <tbody>${j.attempts.map((a) => html`<tr>
        <td>${a.n}</td><td>${a.node}</td><td class="mono small">${a.container}</td>
        <td title=${a.started_at}>${time(a.started_at)}</td>
        <td class="num">${a.ended_at ? duration(Date.parse(a.ended_at) - Date.parse(a.started_at)) : '…'}</td>
        <td>${a.ended_at ? `${a.reason ?? ''}${a.exit_code !== undefined ? ` (exit ${a.exit_code})` : ''}${a.message ? `: ${a.message}` : ''}` : html`<span class="muted">running</span>`}</td>
      </tr>`)}</tbody>
    </table></div>`}
    ${j.output ? html`<h2>Output file</h2><pre class="out" data-output>${j.output}</pre>${j.output_truncated ? html`<div class="small muted">truncated</div>` : null}` : null}
    <${Logs} id=${j.id} active=${active} />
    <p><a href="#/jobs">All jobs</a></p>
  </div>`;
}
