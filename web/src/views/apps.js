import { Badge, colourOf, Empty, ErrorNote, fmt, html, splitTier, ago } from '../ui.js';

/** Per app of the topology: its tiers, with the containers each has on which node. */
function appsOf(s) {
  const apps = (s.topology?.apps ?? []).map((a) => a.name);
  const byTier = new Map();
  for (const node of s.nodes ?? []) {
    for (const c of node.containers) {
      if (!byTier.has(c.tier)) byTier.set(c.tier, []);
      byTier.get(c.tier).push({ ...c, node: node.name });
    }
  }
  const result = (s.topology?.apps ?? []).map((app) => ({
    name: app.name,
    tiers: Object.entries(app.tiers ?? {}).map(([tier, spec]) => ({ tier, spec, containers: byTier.get(`${app.name}_${tier}`) ?? [] })),
  }));
  // Containers of tiers the topology does not list (should not happen) still show.
  const known = new Set(result.flatMap((a) => a.tiers.map((t) => `${a.name}_${t.tier}`)));
  const stray = [...byTier.keys()].filter((t) => !known.has(t));
  if (stray.length) result.push({ name: '(not in the topology)', tiers: stray.map((t) => ({ tier: t, spec: {}, containers: byTier.get(t) })) });
  return { apps, list: result };
}

function Tiers({ app, tiers, apps }) {
  return html`<div class="table-wrap"><table class="table">
    <thead><tr><th>Tier</th><th class="num">Containers</th><th class="num">Cores</th><th class="num">Memory</th><th>Placed on</th><th>Image</th></tr></thead>
    <tbody>${tiers.map(({ tier, spec, containers }) => {
      const t = splitTier(`${app}_${tier}`, apps);
      const cores = containers.reduce((a, c) => a + c.cpu_cores, 0);
      const mem = containers.reduce((a, c) => a + c.mem_units, 0);
      return html`<tr data-tier=${`${app}_${tier}`}>
        <td><span class="swatch" style=${`background:${colourOf(t.app, t.tier)}`}></span><b>${tier}</b>${spec.name ? html`<div class="muted small">${spec.name}</div>` : null}</td>
        <td class="num">${containers.length}</td>
        <td class="num">${fmt(cores)}</td>
        <td class="num">${fmt(mem)}</td>
        <td>${containers.length === 0 ? html`<span class="muted">not running</span>` : containers.map((c) => html`<div class="placement"><a href="#/nodes">${c.node}</a> <span class="muted">cores</span> <span class="mono">${c.cpuset}</span> ${c.state !== 'running' ? html`<${Badge} status=${c.state} />` : null}</div>`)}</td>
        <td class="mono small muted">${spec.docker_image ?? ''}</td>
      </tr>`;
    })}</tbody>
  </table></div>`;
}

function System({ sys, detail }) {
  const services = Object.entries(detail?.services ?? {});
  return html`<article class="card" data-system=${sys.sid}>
    <div class="card-head">
      <h3>${sys.name} <span class="muted small">${sys.namespace} · ${sys.sid}</span></h3>
      <div class="badges"><${Badge} status=${sys.status} />${detail ? html`<${Badge} tone=${detail.ready ? 'ok' : 'warn'} label=${detail.ready ? 'ready' : 'not ready'} />` : null}</div>
    </div>
    <div class="muted small">created ${ago(sys.created_at)}</div>
    ${detail?.warnings?.length ? html`<ul class="warnings">${detail.warnings.map((w) => html`<li>${w}</li>`)}</ul>` : null}
    ${services.length ? html`<div class="table-wrap"><table class="table compact">
      <thead><tr><th>Service</th><th>State</th><th>Ready</th><th>Node</th><th class="num">Cores</th><th>Ports</th></tr></thead>
      <tbody>${services.map(([name, svc]) => html`<tr>
        <td><b>${name}</b></td>
        <td><${Badge} status=${svc.state} />${svc.health ? html` <${Badge} status=${svc.health} />` : null}</td>
        <td>${svc.ready ? html`<${Badge} status="ready" />` : html`<${Badge} tone="warn" label="no" />`}</td>
        <td>${[...new Set(svc.containers.map((c) => c.vm))].join(', ')}</td>
        <td class="num">${fmt(svc.containers.reduce((a, c) => a + c.cpu_cores, 0))}</td>
        <td class="mono small">${svc.containers.flatMap((c) => c.ports).map((p) => `${p.address ?? p.vm}:${p.host_port}→${p.container_port}/${p.protocol}`).join(' ') || html`<span class="muted">none</span>`}</td>
      </tr>`)}</tbody>
    </table></div>` : html`<p class="muted small">${detail ? 'No service.' : 'Loading…'}</p>`}
  </article>`;
}

export function Apps({ s }) {
  const { apps, list } = appsOf(s);
  const systemApps = new Set((s.systems ?? []).map((x) => Object.values(s.systemDetails).find((d) => d.sid === x.sid)?.app).filter(Boolean));
  const plain = list.filter((a) => !systemApps.has(a.name));
  return html`<div class="page">
    <h1>Apps & systems</h1>
    <${ErrorNote} message=${s.errors.topology ?? s.errors.systems} />
    ${s.topology === null ? html`<${Empty}>No topology is loaded yet.<//>` : null}
    <section aria-labelledby="apps-h">
      <h2 id="apps-h" class="section-title">Apps <span class="count">${plain.length}</span></h2>
      ${plain.map((a) => html`<article class="card" data-app=${a.name}>
        <div class="card-head"><h3>${a.name}</h3><span class="muted small">${a.tiers.length} tiers · ${a.tiers.reduce((n, t) => n + t.containers.length, 0)} containers</span></div>
        <${Tiers} app=${a.name} tiers=${a.tiers} apps=${apps} />
      </article>`)}
    </section>
    <section aria-labelledby="systems-h">
      <h2 id="systems-h" class="section-title">Systems <span class="count">${(s.systems ?? []).length}</span></h2>
      ${(s.systems ?? []).length === 0 ? html`<${Empty}>No system. <code>ecoware-executor systems up FILE.yaml</code> starts one from a compose file.<//>` : null}
      ${(s.systems ?? []).map((sys) => {
        const detail = s.systemDetails[sys.sid];
        const app = detail && list.find((a) => a.name === detail.app);
        return html`<div><${System} sys=${sys} detail=${detail} />${app ? html`<div class="card sub"><${Tiers} app=${app.name} tiers=${app.tiers} apps=${apps} /></div>` : null}</div>`;
      })}
    </section>
  </div>`;
}
