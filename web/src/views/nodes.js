import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api } from '../api.js';
import { loadNodes } from '../store.js';
import { ago, Badge, colourOf, Empty, ErrorNote, fmt, html, memo, splitTier, StackedBar } from '../ui.js';

function segmentsOf(node, apps, key) {
  return node.containers.map((c) => {
    const { app, tier } = splitTier(c.tier, apps);
    return { key: c.id, label: `${app} / ${tier}`, value: c[key], colour: colourOf(app, tier) };
  });
}

/** One square per core, coloured by the tier whose cpuset holds it. */
function CoreMap({ node, apps }) {
  const owner = new Map();
  for (const c of node.containers) {
    for (const part of String(c.cpuset || '').split(',')) {
      const [a, b] = part.split('-').map(Number);
      if (!Number.isFinite(a)) continue;
      for (let i = a; i <= (Number.isFinite(b) ? b : a); i++) owner.set(i, c.tier);
    }
  }
  const cores = Array.from({ length: node.capacity.cpu_cores }, (_, i) => i);
  return html`<div class="coremap" aria-label=${`cpusets of ${node.name}`}>
    ${cores.map((i) => {
      const tier = owner.get(i);
      const t = tier ? splitTier(tier, apps) : undefined;
      return html`<span class="core" style=${t ? `background:${colourOf(t.app, t.tier)};color:#fff` : ''} title=${t ? `core ${i}: ${t.app} / ${t.tier}` : `core ${i}: free`}>${i}</span>`;
    })}
  </div>`;
}

function DrainDialog({ node, onClose }) {
  const ref = useRef();
  const [preview, setPreview] = useState();
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    ref.current?.showModal();
    api('POST', `/api/nodes/${encodeURIComponent(node)}/drain?dry_run=true`).then(setPreview, (e) => setError(e.message));
  }, []);
  const run = async () => {
    setBusy(true);
    try {
      const started = await api('POST', `/api/nodes/${encodeURIComponent(node)}/drain?wait=false`);
      ref.current?.close();
      onClose();
      location.hash = `#/executions/${started.execution_id}`;
    } catch (e) {
      setError(e.message);
      setBusy(false);
    }
  };
  const actions = preview ? preview.actions.flat() : [];
  return html`<dialog ref=${ref} class="dialog" aria-labelledby="drain-title" onClose=${onClose}>
    <h2 id="drain-title">Drain ${node}?</h2>
    <p class="muted">Draining cordons the node and moves every container off it, as an execution of kind <b>drain</b>. This is what it would do now (a dry run; nothing has changed yet):</p>
    ${error ? html`<div class="note note-bad" role="alert">${error}</div>` : null}
    ${!preview && !error ? html`<p class="muted">Asking the allocator…</p>` : null}
    ${preview ? html`<div class="preview" data-preview="drain">
      ${actions.length === 0 ? html`<p>Nothing runs on ${node}: no action is needed.</p>` : html`
        <ol class="plan-layers">${preview.actions.map((layer, i) => html`<li><span class="muted small">layer ${i + 1}</span><ul>${layer.map((a) => html`<li>${a}</li>`)}</ul></li>`)}</ol>`}
      <p class="muted small">cost ${fmt(preview.cost)}${preview.optimal ? ' (optimal)' : ''}</p>
    </div>` : null}
    <div class="dialog-buttons">
      <button class="btn" onClick=${() => { ref.current?.close(); }}>Cancel</button>
      <button class="btn btn-danger" onClick=${run} disabled=${!preview || busy}>Drain ${node}</button>
    </div>
  </dialog>`;
}

const NodeCard = memo(function NodeCard({ node, apps, canChange, onDrain }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const act = async (what) => {
    setBusy(true);
    setError('');
    try {
      await api('POST', `/api/nodes/${encodeURIComponent(node.name)}/${what}`);
      await loadNodes();
    } catch (e) {
      setError(e.message);
    } finally {
      setBusy(false);
    }
  };
  const labels = Object.entries(node.labels);
  return html`<article class="card node" data-node=${node.name} aria-labelledby=${`node-${node.name}`}>
    <div class="node-head">
      <div>
        <h2 id=${`node-${node.name}`} class="node-name">${node.name}</h2>
        <div class="badges">
          <${Badge} status=${node.health} />
          ${node.cordoned ? html`<${Badge} status="cordoned" />` : null}
          ${node.draining ? html`<${Badge} status="draining" />` : null}
          ${node.schedulable ? html`<${Badge} tone="ok-soft" label="schedulable" />` : html`<${Badge} tone="muted" label="not schedulable" />`}
        </div>
      </div>
      ${canChange ? html`<div class="node-actions">
        ${node.cordoned
          ? html`<button class="btn" disabled=${busy} onClick=${() => act('uncordon')}>Uncordon</button>`
          : html`<button class="btn" disabled=${busy} onClick=${() => act('cordon')}>Cordon</button>`}
        <button class="btn btn-danger-outline" disabled=${busy || node.draining} onClick=${() => onDrain(node.name)}>Drain…</button>
      </div>` : null}
    </div>
    ${error ? html`<div class="note note-bad" role="alert">${error}</div>` : null}
    <div class="node-meta muted small">
      <span class="mono">${node.docker}</span>
      ${node.last_seen ? html`<span>seen ${ago(node.last_seen)}${node.ping_ms !== undefined ? ` · ping ${node.ping_ms} ms` : ''}</span>` : null}
      ${node.last_error ? html`<span class="bad-text">${node.last_error}</span>` : null}
    </div>
    ${labels.length ? html`<div class="labels">${labels.map(([k, v]) => html`<span class="label"><span>${k}</span>${v}</span>`)}</div>` : null}
    <div class="node-bars">
      <${StackedBar} label="Cores" unit="cores" total=${node.capacity.cpu_cores} segments=${segmentsOf(node, apps, 'cpu_cores')} />
      <${StackedBar} label="Memory" unit="units" total=${node.capacity.mem_units} segments=${segmentsOf(node, apps, 'mem_units')} />
    </div>
    <${CoreMap} node=${node} apps=${apps} />
    ${node.containers.length === 0 ? html`<p class="muted small">No container.</p>` : html`
      <div class="table-wrap"><table class="table compact">
        <thead><tr><th>Tier</th><th>State</th><th class="num">Cores</th><th class="num">Memory</th><th>Cpuset</th><th class="hide-narrow">Container</th></tr></thead>
        <tbody>${node.containers.map((c) => {
          const t = splitTier(c.tier, apps);
          return html`<tr data-tier=${c.tier}>
            <td><span class="swatch" style=${`background:${colourOf(t.app, t.tier)}`}></span><b>${t.tier}</b><div class="muted small app-name" title=${t.app}>${t.app}</div></td>
            <td><${Badge} status=${c.state} /></td>
            <td class="num">${fmt(c.cpu_cores)}</td><td class="num">${fmt(c.mem_units)}</td>
            <td class="mono">${c.cpuset}</td><td class="mono muted hide-narrow">${c.id.slice(0, 12)}</td>
          </tr>`;
        })}</tbody>
      </table></div>`}
  </article>`;
});

export function Nodes({ s, canChange }) {
  const [draining, setDraining] = useState();
  const [filter, setFilter] = useState('');
  const apps = useMemo(() => (s.topology?.apps ?? []).map((a) => a.name), [s.topology]);
  if (s.nodes === undefined) return html`<div class="page"><h1>Nodes</h1><p class="muted">Loading…</p></div>`;
  if (s.nodes === null) return html`<div class="page"><h1>Nodes</h1><${Empty}>No topology is loaded yet.<//></div>`;
  const f = filter.trim().toLowerCase();
  const shown = f ? s.nodes.filter((n) => n.name.toLowerCase().includes(f) || Object.entries(n.labels).some(([k, v]) => `${k}=${v}`.toLowerCase().includes(f)) || n.containers.some((c) => c.tier.toLowerCase().includes(f))) : s.nodes;
  const legend = [...new Set(s.nodes.flatMap((n) => n.containers.map((c) => c.tier)))].sort().map((t) => splitTier(t, apps));
  return html`<div class="page">
    <div class="page-head">
      <h1>Nodes <span class="count">${s.nodes.length}</span></h1>
      <div class="filters">
        <label class="sr-only" for="node-filter">Filter nodes</label>
        <input id="node-filter" type="search" placeholder="Filter by node, label or tier" value=${filter} onInput=${(e) => setFilter(e.target.value)} />
      </div>
    </div>
    <${ErrorNote} message=${s.errors.nodes} />
    ${legend.length ? html`<div class="legend" aria-label="tiers">${legend.map((t) => html`<span><span class="swatch" style=${`background:${colourOf(t.app, t.tier)}`}></span>${t.app} / ${t.tier}</span>`)}</div>` : null}
    <div class="node-list">${shown.map((n) => html`<${NodeCard} key=${n.name} node=${n} apps=${apps} canChange=${canChange} onDrain=${setDraining} />`)}</div>
    ${shown.length === 0 ? html`<${Empty}>No node matches.<//>` : null}
    ${draining ? html`<${DrainDialog} node=${draining} onClose=${() => setDraining(undefined)} />` : null}
  </div>`;
}
