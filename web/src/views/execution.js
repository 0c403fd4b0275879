import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { loadExecution, loadExecutions } from '../store.js';
import { Badge, duration, ErrorNote, executionDuration, html, time } from '../ui.js';

const ICON = { succeeded: '✓', failed: '✗', running: '…', pending: '·', skipped: '–', cancelled: '–' };

function Hook({ hook }) {
  const failed = hook.exitCode !== 0 || hook.timedOut || hook.cancelled;
  return html`<details class=${`hook ${failed ? 'hook-bad' : ''}`}>
    <summary><span class="mono">${hook.event}</span> ${hook.hook} <span class="muted small">exit ${hook.exitCode ?? '–'}${hook.timedOut ? ', timed out' : ''}${hook.cancelled ? ', cancelled' : ''} · ${duration(hook.durationMs)}</span></summary>
    ${hook.stdout ? html`<div class="small muted">stdout</div><pre class="out">${hook.stdout}</pre>` : null}
    ${hook.stderr ? html`<div class="small muted">stderr</div><pre class="out out-err">${hook.stderr}</pre>` : null}
    ${hook.output ? html`<div class="small muted">output</div><pre class="out">${hook.output}</pre>` : null}
    ${!hook.stdout && !hook.stderr && !hook.output ? html`<div class="small muted">no output</div>` : null}
    ${hook.truncated ? html`<div class="small muted">output truncated</div>` : null}
  </details>`;
}

/** The layers of an execution, each action with its status, duration, error and hooks. */
export function ActionList({ steps, compact }) {
  if (!steps || steps.length === 0) return html`<p class="muted small">No action: the allocation already matched.</p>`;
  return html`<ol class=${`layers ${compact ? 'compact' : ''}`}>${steps.map((layer, l) => html`<li class="layer">
    <div class="layer-head">Layer ${l + 1} <span class="muted">of ${steps.length}</span></div>
    <ul class="actions">${layer.map((a) => html`<li class=${`action st-${a.status}`} data-status=${a.status}>
      <div class="action-line">
        <span class=${`icon tone-${a.status}`} aria-hidden="true">${ICON[a.status] ?? '·'}</span>
        <span class="desc">${a.description}</span>
        <span class="muted small nowrap">${a.status === 'succeeded' || a.status === 'failed' ? duration(a.duration_ms) : a.status}</span>
      </div>
      ${a.error ? html`<div class="note note-bad small">${a.error}${a.error_code ? html` <code>${a.error_code}</code>` : null}</div>` : null}
      ${!compact && a.progress?.length ? html`<ul class="progress small muted">${a.progress.map((p) => html`<li>${p}</li>`)}</ul>` : null}
      ${!compact && a.hooks?.length ? a.hooks.map((h) => html`<${Hook} hook=${h} />`) : null}
    </li>`)}</ul>
  </li>`)}</ol>`;
}

export function ExecutionDetail({ s, id, canChange }) {
  const e = s.execution;
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const act = async (what) => {
    setBusy(true);
    setError('');
    try {
      const answer = await api('POST', `/api/executions/${encodeURIComponent(id)}/${what}${what === 'rollback' ? '?wait=false' : ''}`);
      if (what === 'rollback' && answer.execution_id) location.hash = `#/executions/${answer.execution_id}`;
      else await loadExecution(id);
      void loadExecutions();
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  };
  if (e === undefined) return html`<div class="page"><p class="muted">Loading ${id}…</p></div>`;
  if (e === null) return html`<div class="page"><h1>Execution</h1><div class="note note-bad">Execution <code>${id}</code> is not known to the daemon.</div><a href="#/executions">All executions</a></div>`;
  const active = e.status === 'queued' || e.status === 'running';
  const canRollBack = ['succeeded', 'failed', 'cancelled'].includes(e.status) && !e.rolled_back_by;
  const plan = Object.entries(e.plan ?? {});
  return html`<div class="page" data-execution=${e.id}>
    <nav class="crumbs" aria-label="Breadcrumb"><a href="#/executions">Executions</a> / <span class="mono">${e.id}</span></nav>
    <div class="page-head">
      <h1><span class="kind-title">${e.kind}</span> <${Badge} status=${e.status} /></h1>
      ${canChange ? html`<div class="node-actions">
        ${active ? html`<button class="btn btn-danger-outline" disabled=${busy} onClick=${() => act('cancel')}>Cancel</button>` : null}
        ${canRollBack ? html`<button class="btn" disabled=${busy} onClick=${() => act('rollback')}>Roll back</button>` : null}
      </div>` : null}
    </div>
    <${ErrorNote} message=${error} />
    ${e.error ? html`<div class="note note-bad" role="alert"><b>${e.error.code}</b>: ${e.error.message}</div>` : null}
    <dl class="facts">
      <div><dt>Created</dt><dd>${time(e.created_at)}</dd></div>
      <div><dt>Started</dt><dd>${time(e.started_at) || '–'}</dd></div>
      <div><dt>Finished</dt><dd>${time(e.finished_at) || '–'}</dd></div>
      <div><dt>Ran</dt><dd>${executionDuration(e) || '–'}</dd></div>
      ${e.cost !== undefined ? html`<div><dt>Cost</dt><dd>${e.cost}${e.optimal ? ' (optimal)' : e.lower_bound !== undefined ? ` (bound ${e.lower_bound})` : ''}</dd></div>` : null}
      ${Object.entries(e.timings_ms ?? {}).map(([k, v]) => html`<div><dt>${k}</dt><dd>${duration(v)}</dd></div>`)}
      ${e.hooks_commit ? html`<div><dt>Hooks commit</dt><dd class="mono">${e.hooks_commit.slice(0, 12)}</dd></div>` : null}
      ${e.superseded_by ? html`<div><dt>Superseded by</dt><dd><a class="mono" href=${`#/executions/${e.superseded_by}`}>${e.superseded_by}</a></dd></div>` : null}
      ${e.rollback_of ? html`<div><dt>Rolls back</dt><dd><a class="mono" href=${`#/executions/${e.rollback_of}`}>${e.rollback_of}</a></dd></div>` : null}
      ${e.rolled_back_by ? html`<div><dt>Rolled back by</dt><dd><a class="mono" href=${`#/executions/${e.rolled_back_by}`}>${e.rolled_back_by}</a></dd></div>` : null}
    </dl>
    ${plan.length ? html`<section class="card"><h2>Plan</h2><div class="table-wrap"><table class="table compact">
      <thead><tr><th>Tier</th><th class="num">Cores</th><th class="num">Memory units</th></tr></thead>
      <tbody>${plan.map(([t, r]) => html`<tr><td>${t}</td><td class="num">${r.cpu_cores}</td><td class="num">${r.mem_units}</td></tr>`)}</tbody>
    </table></div></section>` : null}
    ${e.notes?.length ? html`<section class="card"><h2>Notes</h2><ul>${e.notes.map((n) => html`<li>${n}</li>`)}</ul></section>` : null}
    <section class="card"><h2>Actions</h2><${ActionList} steps=${e.steps} /></section>
  </div>`;
}
