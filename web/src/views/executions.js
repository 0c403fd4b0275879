import { loadExecutions, PAGE_SIZE, set, state } from '../store.js';
import { ago, Badge, Empty, ErrorNote, executionDuration, html } from '../ui.js';

const KINDS = ['plan', 'reconcile', 'heal', 'drain', 'rollback', 'system', 'scale'];
const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'superseded'];

function query(patch) {
  set({ executionQuery: { ...state.executionQuery, offset: 0, ...patch } });
  void loadExecutions();
}

export function Executions({ s }) {
  const page = s.executions;
  const q = s.executionQuery;
  const total = page?.meta.total_count ?? 0;
  return html`<div class="page">
    <div class="page-head">
      <h1>Executions <span class="count">${total}</span></h1>
      <div class="filters">
        <label>Kind <select value=${q.kind} onChange=${(e) => query({ kind: e.target.value })}>
          <option value="">any</option>${KINDS.map((k) => html`<option value=${k}>${k}</option>`)}
        </select></label>
        <label>Status <select value=${q.status} onChange=${(e) => query({ status: e.target.value })}>
          <option value="">any</option>${STATUSES.map((k) => html`<option value=${k}>${k}</option>`)}
        </select></label>
      </div>
    </div>
    <${ErrorNote} message=${s.errors.executions} />
    ${!page ? html`<p class="muted">Loading…</p>` : page.objects.length === 0 ? html`<${Empty}>No execution${q.kind || q.status ? ' matches' : ' yet'}.<//>` : html`
    <div class="table-wrap"><table class="table executions">
      <thead><tr><th>Execution</th><th>Kind</th><th>Status</th><th>Actions</th><th>Created</th><th class="num">Ran</th></tr></thead>
      <tbody>${page.objects.map((e) => html`<tr data-execution=${e.id}>
        <td><a class="mono" href=${`#/executions/${e.id}`}>${e.id}</a>${e.error ? html`<div class="small bad-text clip" title=${e.error.message}>${e.error.message}</div>` : null}${e.rollback_of ? html`<div class="small muted">rolls back ${e.rollback_of}</div>` : null}</td>
        <td>${e.kind}</td>
        <td><${Badge} status=${e.status} /></td>
        <td class="actions-cell">${e.actions.total === 0 ? html`<span class="muted">none</span>` : html`
          <span class="ok-text">${e.actions.succeeded}</span>${e.actions.failed ? html` · <span class="bad-text">${e.actions.failed} failed</span>` : null}${e.actions.skipped + e.actions.cancelled ? html` · <span class="muted">${e.actions.skipped + e.actions.cancelled} not run</span>` : null} <span class="muted">/ ${e.actions.total}</span>`}</td>
        <td title=${e.created_at}>${ago(e.created_at)}</td>
        <td class="num">${executionDuration(e)}</td>
      </tr>`)}</tbody>
    </table></div>
    <div class="pager">
      <button class="btn" disabled=${q.offset === 0} onClick=${() => { set({ executionQuery: { ...q, offset: Math.max(0, q.offset - PAGE_SIZE) } }); void loadExecutions(); }}>Newer</button>
      <span class="muted small">${q.offset + 1}–${Math.min(total, q.offset + PAGE_SIZE)} of ${total}</span>
      <button class="btn" disabled=${q.offset + PAGE_SIZE >= total} onClick=${() => { set({ executionQuery: { ...q, offset: q.offset + PAGE_SIZE } }); void loadExecutions(); }}>Older</button>
    </div>`}
  </div>`;
}
