// Screenshots of each view of the operator's page at 1280 and 390 pixels wide, into docs/dashboard/.
//   node web/screenshots.mjs http://127.0.0.1:8000   (a daemon with the demo's topology, e.g. scripts/demo.sh)
// Debian's chromium through playwright-core; the page is driven like a person would: while it is
// open the first node is cordoned and uncordoned and the first tier is given one memory unit more
// and then its own back (two executions: meant for the demo's daemon), so Events has something to
// show; the drain dialog is opened (and cancelled).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');
const url = (process.argv[2] ?? 'http://127.0.0.1:8000').replace(/\/+$/, '');
const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'dashboard');
mkdirSync(out, { recursive: true });
const profile = mkdtempSync(join(tmpdir(), 'ecoware-shots-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1280, height: 800 },
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'],
});
const page = context.pages()[0] ?? await context.newPage();
const settle = () => page.waitForTimeout(700);
// The execution shown: the newest plan that did the most (its actions and hooks show); read after the plans below.
let latest;
const pickExecution = async () => {
  const executions = (await (await fetch(`${url}/api/executions?limit=50&kind=plan`)).json()).objects;
  const details = await Promise.all(executions.map(async (e) => (await fetch(`${url}/api/executions/${e.id}`)).json()));
  const hooks = (e) => e.steps.flat().reduce((n, a) => n + (a.hooks?.length ?? 0), 0);
  latest = details.sort((a, b) => hooks(b) - hooks(a) || b.steps.flat().length - a.steps.flat().length)[0]?.id;
};
const nodes = await (await fetch(`${url}/api/nodes`)).json();

for (const width of [1280, 390]) {
  await page.setViewportSize({ width, height: width > 800 ? 800 : 844 });
  await page.goto(`${url}/ui#/`);
  await page.locator('.conn[data-connection="live"]').waitFor();
  // Something happens while the page is open: it shows in the overview and in Events.
  const tier = nodes.flatMap((n) => n.containers.map((c) => c.tier))[0];
  if (tier) {
    const cordon = await fetch(`${url}/api/nodes/${nodes[0].name}/cordon`, { method: 'POST' });
    if (cordon.ok) await fetch(`${url}/api/nodes/${nodes[0].name}/uncordon`, { method: 'POST' });
    if (width === 1280) {
      const c = nodes[0].containers[0];
      const flat = { [c.tier]: { cpu_cores: c.cpu_cores, mem_units: c.mem_units + 1 } };
      const put = (plan) => fetch(`${url}/api/executor`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(plan) });
      await put(flat);
      await put({ [c.tier]: { cpu_cores: c.cpu_cores, mem_units: c.mem_units } });
    }
  }
  await pickExecution();
  const shots = [
    ['overview', '#/'],
    ['nodes', '#/nodes'],
    ['apps', '#/apps'],
    ['executions', '#/executions'],
    ['execution', `#/executions/${latest}`],
    ['events', '#/events'],
    ['search', `#/search?q=${encodeURIComponent(tier ?? 'db')}`],
  ];
  for (const [name, hash] of shots) {
    await page.goto(`${url}/ui${hash}`);
    await settle();
    // An execution's first hook is opened: its output shows.
    if (name === 'execution') await page.locator('details.hook summary').first().click().catch(() => undefined);
    await page.screenshot({ path: join(out, `${name}-${width}.png`), fullPage: true });
  }
  await page.goto(`${url}/ui#/nodes`);
  await settle();
  await page.locator('button:text("Drain…")').first().click();
  await page.locator('dialog [data-preview="drain"], dialog [role="alert"]').first().waitFor({ timeout: 20000 });
  await settle();
  await page.screenshot({ path: join(out, `drain-${width}.png`) });
  await page.keyboard.press('Escape');
}
await context.close();
rmSync(profile, { recursive: true, force: true });
console.log(`screenshots in ${out}`);
