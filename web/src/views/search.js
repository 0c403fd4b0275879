import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { Badge, Empty, html } from '../ui.js';

/** Search by execution id, container (name or id) or tier. */
export function Search({ s, q }) {
  const [execution, setExecution] = useState();
  const [containers, setContainers] = useState();
  const needle = q.trim().toLowerCase();
  useEffect(() => {
    setExecution(undefined);
    setContainers(undefined);
    if (!needle) return;
    if (/^[A-Za-z0-9-]{1,128}$/.test(q.trim())) {
      api('GET', `/api/executions/${encodeURIComponent(q.trim())}`).then((e) => setExecution(e), () => setExecution(null));
    } else setExecution(null);
    // Container names are the engines' own: asked of them (GET /api/inspect).
    api('GET', '/api/inspect').then((r) => setContainers(Object.entries(r).flatMap(([vm, v]) => v.containers.map((c) => ({ ...c, vm }))))).catch(() => setContainers([]));
  }, [q]);
  const tiers = (s.nodes ?? []).flatMap((n) => n.containers.map((c) => ({ ...c, node: n.name }))).filter((c) => c.tier.toLowerCase().includes(needle));
  const topologyTiers = (s.topology?.apps ?? []).flatMap((a) => Object.keys(a.tiers ?? {}).map((t) => `${a.name}_${t}`)).filter((t) => t.toLowerCase().includes(needle));
  const foundContainers = (containers ?? []).filter((c) => c.name.toLowerCase().includes(needle) || c.id.startsWith(needle));
  const recent = (s.executions?.objects ?? []).filter((e) => e.id.toLowerCase().includes(needle) && e.id !== execution?.id);
  const nothing = execution === null && containers !== undefined && !tiers.length && !topologyTiers.length && !foundContainers.length && !recent.length;
  return html`<div class="page">
    <h1>Search <span class="muted">“${q}”</span></h1>
    ${nothing ? html`<${Empty}>Nothing matches “${q}”: no execution has that id, and no container or tier has it in its name.<//>` : null}
    ${execution ? html`<section class="card"><h2>Execution</h2><p><a class="mono" href=${`#/executions/${execution.id}`}>${execution.id}</a> ${execution.kind} <${Badge} status=${execution.status} /></p></section>` : null}
    ${recent.length ? html`<section class="card"><h2>Executions</h2><ul>${recent.map((e) => html`<li><a class="mono" href=${`#/executions/${e.id}`}>${e.id}</a> <${Badge} status=${e.status} /></li>`)}</ul></section>` : null}
    ${foundContainers.length ? html`<section class="card"><h2>Containers</h2><div class="table-wrap"><table class="table compact">
      <thead><tr><th>Name</th><th>Node</th><th>Tier</th><th>State</th><th>Cpuset</th></tr></thead>
      <tbody>${foundContainers.map((c) => html`<tr><td class="mono">${c.name}</td><td><a href="#/nodes">${c.vm}</a></td><td>${c.app} / ${c.tier}</td><td><${Badge} status=${c.state} /></td><td class="mono">${c.CpusetCpus}</td></tr>`)}</tbody>
    </table></div></section>` : null}
    ${tiers.length || topologyTiers.length ? html`<section class="card"><h2>Tiers</h2><div class="table-wrap"><table class="table compact">
      <thead><tr><th>Tier</th><th>Node</th><th class="num">Cores</th><th class="num">Memory</th><th>Cpuset</th></tr></thead>
      <tbody>${tiers.map((c) => html`<tr><td><a href="#/apps">${c.tier}</a></td><td><a href="#/nodes">${c.node}</a></td><td class="num">${c.cpu_cores}</td><td class="num">${c.mem_units}</td><td class="mono">${c.cpuset}</td></tr>`)}
      ${topologyTiers.filter((t) => !tiers.some((c) => c.tier === t)).map((t) => html`<tr><td><a href="#/apps">${t}</a></td><td colspan="4" class="muted">not running</td></tr>`)}</tbody>
    </table></div></section>` : null}
    ${containers === undefined ? html`<p class="muted">Asking the engines…</p>` : null}
  </div>`;
}
