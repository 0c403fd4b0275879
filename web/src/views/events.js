import { useState } from 'preact/hooks';
import { Badge, clock, Empty, html } from '../ui.js';
import { describe } from './overview.js';

const TYPES = ['execution', 'action', 'node', 'reset'];

export function Events({ s }) {
  const [type, setType] = useState('');
  const shown = type ? s.events.filter((e) => e.type === type) : s.events;
  return html`<div class="page">
    <div class="page-head">
      <h1>Events <span class="count">${s.events.length}</span></h1>
      <div class="filters">
        <label>Type <select value=${type} onChange=${(e) => setType(e.target.value)}>
          <option value="">any</option>${TYPES.map((t) => html`<option value=${t}>${t} (${s.eventCounts[t] ?? 0})</option>`)}
        </select></label>
      </div>
    </div>
    <p class="muted small">The daemon's event stream (<code>GET /api/events</code>) since this page opened, newest first; the last 500 are kept.</p>
    ${shown.length === 0 ? html`<${Empty}>No event yet. Apply a plan, or cordon a node, and it shows here at once.<//>` : html`
    <div class="table-wrap"><table class="table compact events">
      <thead><tr><th>Time</th><th>Type</th><th>Status</th><th>What</th></tr></thead>
      <tbody>${shown.map((e) => html`<tr key=${e.id}>
        <td class="mono nowrap">${clock(e.at)}</td>
        <td>${e.type}</td>
        <td>${e.type === 'node' ? html`<${Badge} status=${e.health ?? (e.cordoned ? 'cordoned' : 'ready')} label=${e.health ?? (e.cordoned ? 'cordoned' : 'uncordoned')} />` : e.status ? html`<${Badge} status=${e.status} />` : null}</td>
        <td>${describe(e)}${e.type === 'action' ? html` <a class="mono small" href=${`#/executions/${e.execution_id}`}>${e.execution_id}</a>` : null}</td>
      </tr>`)}</tbody>
    </table></div>`}
  </div>`;
}
