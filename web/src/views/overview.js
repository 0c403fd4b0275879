import { Badge, clock, duration, Empty, ErrorNote, executionDuration, html, Meter, ago } from '../ui.js';
import { ActionList } from './execution.js';

function nodeCounts(nodes) {
  const c = { ready: 0, unreachable: 0, cordoned: 0, draining: 0 };
  for (const n of nodes) {
    c[n.health] = (c[n.health] ?? 0) + 1;
    if (n.cordoned) c.cordoned += 1;
    if (n.draining) c.draining += 1;
  }
  return c;
}

export function Overview({ s }) {
  const nodes = s.nodes ?? [];
  const counts = nodeCounts(nodes);
  const cores = nodes.reduce((a, n) => ({ used: a.used + n.used.cpu_cores, total: a.total + n.capacity.cpu_cores }), { used: 0, total: 0 });
  const mem = nodes.reduce((a, n) => ({ used: a.used + n.used.mem_units, total: a.total + n.capacity.mem_units }), { used: 0, total: 0 });
  const schedulable = nodes.filter((n) => n.schedulable);
  const free = schedulable.reduce((a, n) => ({ cores: a.cores + n.capacity.cpu_cores - n.used.cpu_cores, mem: a.mem + n.capacity.mem_units - n.used.mem_units }), { cores: 0, mem: 0 });
  const active = s.active?.objects ?? [];
  const running = active.filter((e) => e.status === 'running');
  const queued = active.filter((e) => e.status === 'queued');
  const latest = s.latest;
  const tiers = new Set(nodes.flatMap((n) => n.containers.map((c) => c.tier)));
  const containers = nodes.reduce((a, n) => a + n.containers.length, 0);
  return html`<div class="page">
    <h1>Overview</h1>
    <${ErrorNote} message=${s.errors.nodes} />
    ${s.nodes === null ? html`<div class="note">No topology is loaded yet: <code>PUT /api/topology</code> (or <code>ecoware-executor topology FILE</code>) gives the daemon its nodes and apps.</div>` : null}
    <div class="cards">
      <a class="card stat" href="#/nodes">
        <div class="stat-label">Nodes</div>
        <div class="stat-value">${nodes.length}</div>
        <div class="stat-foot">
          <${Badge} status="ready" label=${`${counts.ready} ready`} />
          ${counts.unreachable ? html`<${Badge} status="unreachable" label=${`${counts.unreachable} unreachable`} />` : null}
          ${counts.cordoned ? html`<${Badge} status="cordoned" label=${`${counts.cordoned} cordoned`} />` : null}
          ${counts.draining ? html`<${Badge} status="draining" label=${`${counts.draining} draining`} />` : null}
        </div>
      </a>
      <div class="card stat">
        <div class="stat-label">Capacity allocated</div>
        <${Meter} label="Cores" used=${cores.used} total=${cores.total} />
        <${Meter} label="Memory units" used=${mem.used} total=${mem.total} />
        <div class="stat-foot muted">free on schedulable nodes: ${free.cores} cores, ${free.mem} memory units</div>
      </div>
      <a class="card stat" href="#/apps">
        <div class="stat-label">Workload</div>
        <div class="stat-value">${tiers.size}<span class="stat-unit"> tiers</span></div>
        <div class="stat-foot muted">${containers} containers · ${plural((s.topology?.apps ?? []).length, 'app')} · ${plural((s.systems ?? []).length, 'system')}</div>
      </a>
      <a class="card stat" href="#/executions">
        <div class="stat-label">Work</div>
        <div class="stat-value">${running.length}<span class="stat-unit"> running</span></div>
        <div class="stat-foot">${queued.length ? html`<${Badge} status="queued" label=${`${queued.length} queued`} />` : html`<span class="muted">nothing queued</span>`} <span class="muted">· ${s.executions?.meta.total_count ?? 0} recorded</span></div>
      </a>
    </div>
    <div class="grid2">
      <section class="card" aria-labelledby="last-plan">
        <div class="card-head"><h2 id="last-plan">Last execution</h2>${latest ? html`<a href=${`#/executions/${latest.id}`}>Details</a>` : null}</div>
        ${latest === undefined ? html`<p class="muted">Loading…</p>` : latest === null ? html`<${Empty}>No execution yet.<//>` : html`
          <div class="last" data-execution=${latest.id}>
            <div class="last-head"><${Badge} status=${latest.status} /> <span class="kind">${latest.kind}</span> <code class="mono">${latest.id}</code></div>
            <div class="muted small">${ago(latest.created_at)}${latest.started_at ? ` · ran ${executionDuration(latest)}` : ''}${latest.cost !== undefined ? ` · cost ${latest.cost}` : ''}</div>
            ${latest.error ? html`<div class="note note-bad">${latest.error.message} <code>${latest.error.code}</code></div>` : null}
            <${ActionList} steps=${latest.steps} compact=${true} />
          </div>`}
      </section>
      <section class="card" aria-labelledby="recent-events">
        <div class="card-head"><h2 id="recent-events">Recent events</h2><a href="#/events">All events</a></div>
        ${s.events.length === 0 ? html`<${Empty}>Nothing has happened since the page opened. Changes appear here as they happen.<//>` : html`
          <ul class="feed">${s.events.slice(0, 10).map((e) => html`<li><span class="mono muted">${clock(e.at)}</span> <${Badge} status=${e.status ?? (e.cordoned ? 'cordoned' : e.health ?? e.type)} label=${e.type === 'node' ? (e.health ?? (e.cordoned ? 'cordoned' : 'uncordoned')) : e.status ?? e.type} /> ${describe(e)}</li>`)}</ul>`}
      </section>
    </div>
  </div>`;
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function describe(e) {
  if (e.type === 'execution') return html`execution <a class="mono" href=${`#/executions/${e.id}`}>${e.id}</a> (${e.kind})`;
  if (e.type === 'action') return html`${e.description} <span class="muted">· layer ${e.layer + 1}</span>`;
  if (e.type === 'node') return html`node <b>${e.name}</b>`;
  if (e.type === 'reset') return html`${e.reason}`;
  return e.type;
}

export { duration };
