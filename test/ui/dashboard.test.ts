/// <reference lib="dom" />
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Page } from 'playwright-core';
import request from 'supertest';
import { Daemon, startDaemon } from '../../src/main';
import { LABEL_APP } from '../../src/drivers/docker/labels';
import { freePort, removeContainersByLabel, testDockerEndpoint, testImage } from '../support/docker';
import { startEngine, TestEngine } from '../support/engines';
import { Browser, launchBrowser } from '../support/browser';
import { waitUntil } from '../support/wait-for';

/**
 * The operator's page (SPEC §11) in a real browser (Debian's chromium through playwright-core),
 * served by a real daemon whose two nodes are real engines: the local test engine and a private
 * dockerd on 127.0.0.N. What the page does is checked against the API (GET /api/nodes …).
 */
const APP = `ui${process.pid}`;
const ADMIN = 'admin-token-0123456789abcdef';
const READ = 'read-token-0123456789abcdef';

describe('the operator\'s page in a browser', () => {
  let extra: TestEngine;
  let root: string;
  let port: number;
  let daemon: Daemon;
  let browser: Browser;
  let page: Page;
  const api = () => request(daemon.url);
  const start = async (tokensFile?: string) => {
    daemon = await startDaemon({ port, stateDir: path.join(root, 'state'), solverTimeLimitMs: 5000, ...(tokensFile ? { tokensFile } : {}) });
  };
  const nodes = async () => Object.fromEntries(((await api().get('/api/nodes')).body as { name: string }[]).map((n) => [n.name, n])) as Record<string, any>;
  const ui = (hash = '') => `${daemon.url}/ui${hash}`;

  beforeAll(async () => {
    await removeContainersByLabel(LABEL_APP, APP);
    extra = await startEngine(7);
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-ui-'));
    port = await freePort();
    await start();
    const topology = {
      infrastructure: {
        cloud_driver: { type: 'static', nodes: [
          { name: 'n1', docker: testDockerEndpoint().url, address: '127.0.0.1', labels: { zone: 'a' } },
          { name: 'n2', docker: extra.endpoint, address: extra.address, labels: { zone: 'b' } },
        ] },
        cpu_cores: 2, mem_units: 4, mem_unit_mb: 16, node_health_interval_s: 1, reconcile_interval_s: 0,
      },
      apps: [{ name: APP, tiers: { db: { max_node: 1, docker_image: testImage() }, web: { docker_image: testImage() } } }],
    };
    expect((await api().put('/api/topology').send(topology)).status).toBe(200);
    expect((await api().put('/api/execute').send({ [APP]: { db: { cpu_cores: 1, mem_units: 1 }, web: { cpu_cores: 1, mem_units: 1 } } })).status).toBe(200);
    browser = await launchBrowser();
    page = await browser.context.newPage();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await daemon?.close();
    await removeContainersByLabel(LABEL_APP, APP).catch(() => undefined);
    await extra?.stop();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('loads from the daemon alone and shows the nodes, their tiers and cpusets', async () => {
    const outside: string[] = [];
    page.on('request', (r) => { if (!r.url().startsWith(daemon.url) && !r.url().startsWith('data:')) outside.push(r.url()); });
    await page.goto(ui('#/nodes'));
    await page.locator('[data-node="n1"]').waitFor();
    await page.locator('[data-node="n2"]').waitFor();
    const listed = await nodes();
    const host = Object.keys(listed).find((n) => listed[n].containers.length > 0)!;
    const card = page.locator(`[data-node="${host}"]`);
    await expectText(card, 'zone');
    // Each container with its tier, app and cpuset as the engine has it, and the legend names the tiers.
    for (const c of listed[host].containers) {
      const row = card.locator(`tr[data-tier="${c.tier}"]`);
      await expectText(row, APP);
      await expectText(row.locator('td.mono').first(), c.cpuset);
    }
    await expectText(page.locator('.legend'), `${APP} / db`);
    await expectText(page.locator('.legend'), `${APP} / web`);
    await expectText(page.locator('.conn'), 'Live');
    await page.goto(ui('#/apps'));
    await page.locator(`[data-tier="${APP}_db"]`).waitFor();
    await expectText(page.locator(`[data-tier="${APP}_web"]`), host);
    expect(outside).toEqual([]);
  });

  it('shows a plan applied through the API within 2 s, without a reload, with its actions', async () => {
    await page.goto(ui('#/'));
    await expectText(page.locator('.conn'), 'Live');
    let reloaded = false;
    page.once('load', () => { reloaded = true; });
    const started = Date.now();
    const res = await api().put('/api/execute?wait=false').send({ [APP]: { web: { cpu_cores: 1, mem_units: 2 } } });
    expect(res.status).toBe(202);
    const id = res.body.execution_id as string;
    await page.locator(`.last[data-execution="${id}"]`).waitFor({ timeout: 2000 });
    const shownAfter = Date.now() - started;
    expect(shownAfter).toBeLessThan(2000);
    // Its actions, as they finish.
    await page.locator(`.last[data-execution="${id}"] .action[data-status="succeeded"]`).first().waitFor({ timeout: 15_000 });
    await expectText(page.locator(`.last[data-execution="${id}"]`), `'${APP}_web'`);
    await page.locator(`.last[data-execution="${id}"] .badge:text("succeeded")`).waitFor({ timeout: 15_000 });
    // The executions list has it too, and its detail lists the actions with their durations.
    await page.click('nav.side >> text=Executions');
    await page.locator(`tr[data-execution="${id}"]`).waitFor({ timeout: 2000 });
    await page.click(`tr[data-execution="${id}"] a`);
    await page.locator(`.page[data-execution="${id}"] .action[data-status="succeeded"]`).first().waitFor();
    expect(reloaded).toBe(false);
  });

  it('cordons and uncordons a node from the page, as GET /api/nodes shows', async () => {
    await page.goto(ui('#/nodes'));
    const card = page.locator('[data-node="n2"]');
    await card.getByRole('button', { name: 'Cordon' }).click();
    await waitUntil('n2 cordoned', async () => ((await nodes()).n2.cordoned ? true : undefined), 5000);
    await card.locator('.badge:text("cordoned")').waitFor();
    await card.getByRole('button', { name: 'Uncordon' }).click();
    await waitUntil('n2 uncordoned', async () => ((await nodes()).n2.cordoned ? undefined : true), 5000);
    await card.getByRole('button', { name: 'Cordon' }).waitFor();
  });

  it('shows jobs live: a finished job with its output and logs, and cancels a running one', async () => {
    const command = ['/bin/sh', '-c', 'echo "out $1"; echo "err $1" >&2; mkdir -p /ecoware; echo "result $1" > /ecoware/output; [ "$1" = slow ] && sleep 300; true', 'sh'];
    expect((await api().put('/api/job-templates/uijob').send({ image: testImage(), command })).status).toBe(201);
    await waitUntil('the template to be ready', async () => ((await api().get('/api/job-templates/uijob')).body.status === 'ready' ? true : undefined), 30_000);
    await page.goto(ui('#/jobs'));
    await page.locator('tr[data-template="uijob"] .badge:text("ready")').waitFor({ timeout: 5000 });
    const done = (await api().post('/api/jobs').send({ template: 'uijob', input: 'one' })).body.id as string;
    // Live: the list shows it end without a reload.
    await page.locator(`tr[data-job="${done}"] .badge:text("succeeded")`).waitFor({ timeout: 30_000 });
    await page.click(`tr[data-job="${done}"] a`);
    await expectText(page.locator('[data-output]'), 'result one');
    await expectText(page.locator('pre[data-stream="stdout"]'), 'out one');
    await expectText(page.locator('pre[data-stream="stderr"]'), 'err one');

    const slow = (await api().post('/api/jobs').send({ template: 'uijob', input: 'slow' })).body.id as string;
    await page.goto(ui(`#/jobs/${slow}`));
    await page.locator('.page-head .badge:text("running")').waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Cancel' }).click();
    await waitUntil('the job to be cancelled', async () => ((await api().get(`/api/jobs/${slow}`)).body.status === 'cancelled' ? true : undefined), 30_000);
    await page.locator('.page-head .badge:text("cancelled")').waitFor({ timeout: 5000 });
    expect(await page.getByRole('button', { name: 'Cancel' }).count()).toBe(0);
  });

  it('drains a node: shows the dry run first, then runs it', async () => {
    const listed = await nodes();
    const host = Object.keys(listed).find((n) => listed[n].containers.length > 0)!;
    const executionsBefore = (await api().get('/api/executions?kind=drain')).body.meta.total_count;
    await page.goto(ui('#/nodes'));
    await page.locator(`[data-node="${host}"]`).getByRole('button', { name: 'Drain…' }).click();
    const dialog = page.locator('dialog[open]');
    await dialog.locator('[data-preview="drain"]').waitFor({ timeout: 15_000 });
    // The preview moves both tiers away and has changed nothing.
    await expectText(dialog, `'${APP}_db'`);
    await expectText(dialog, `'${APP}_web'`);
    expect((await api().get('/api/executions?kind=drain')).body.meta.total_count).toBe(executionsBefore);
    expect((await nodes())[host]).toMatchObject({ cordoned: false, draining: false });
    await dialog.getByRole('button', { name: `Drain ${host}` }).click();
    // The page follows the drain's execution to its end.
    await page.locator('.page[data-execution] h1 .badge:text("succeeded")').waitFor({ timeout: 60_000 });
    const after = await nodes();
    expect(after[host]).toMatchObject({ cordoned: true, containers: [] });
    const other = host === 'n1' ? 'n2' : 'n1';
    expect(after[other].containers.map((c: { tier: string }) => c.tier).sort()).toEqual([`${APP}_db`, `${APP}_web`]);
    expect((await api().post(`/api/nodes/${host}/uncordon`)).status).toBe(200);
  });

  it('reaches every button with the keyboard', async () => {
    const latest = (await api().get('/api/executions?limit=1')).body.objects[0].id as string;
    for (const [hash, button] of [['#/nodes', '[data-node] button'], [`#/executions/${latest}`, 'button:text("Roll back")']]) {
      await page.goto('about:blank');
      await page.goto(ui(hash));
      await page.locator(button).first().waitFor();
      const buttons = await page.$$eval('button:not([disabled])', (all) => all.filter((b) => (b as HTMLElement).offsetParent !== null).map((b) => b.outerHTML));
      expect(buttons.length).toBeGreaterThan(0);
      const reached = new Set<string>();
      await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      for (let i = 0; i < 200 && reached.size < buttons.length; i++) {
        await page.keyboard.press('Tab');
        const focused = await page.evaluate(() => (document.activeElement?.tagName === 'BUTTON' ? document.activeElement.outerHTML : undefined));
        if (focused) reached.add(focused);
      }
      expect([...reached].sort()).toEqual([...new Set(buttons)].sort());
    }
    // Enter on a focused link opens its view.
    await page.goto(ui('#/'));
    await page.locator('nav.side a[href="#/nodes"]').focus();
    await page.keyboard.press('Enter');
    await page.locator('[data-node="n1"]').waitFor();
  });

  it('resumes the live view by itself after the daemon restarts', async () => {
    await page.goto(ui('#/'));
    await expectText(page.locator('.conn'), 'Live');
    await daemon.close();
    await page.locator('.conn:not([data-connection="live"])').waitFor({ timeout: 10_000 });
    await start();
    await page.locator('.conn[data-connection="live"]').waitFor({ timeout: 15_000 });
    const res = await api().put('/api/execute?wait=false').send({ [APP]: { web: { cpu_cores: 1, mem_units: 1 } } });
    await page.locator(`.last[data-execution="${res.body.execution_id}"]`).waitFor({ timeout: 3000 });
  });

  it('with a tokens file: asks for a token; a read session sees no button and its changes are refused', async () => {
    const tokensFile = path.join(root, 'tokens');
    await fs.writeFile(tokensFile, `admin ${ADMIN}\nread ${READ}\n`, { mode: 0o600 });
    await daemon.close();
    await start(tokensFile);
    const context = browser.context;
    await context.clearCookies();
    // The open page notices by itself that the daemon now wants a token.
    await page.locator('#token').waitFor({ timeout: 15_000 });
    await page.goto('about:blank');
    await page.goto(ui('#/nodes'));
    await signInForm(page);
    await page.locator('#token').fill('not-a-token-at-all-000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('[role="alert"]').waitFor();
    await page.locator('#token').fill(READ);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('[data-node="n1"]').waitFor();
    const [cookie] = await context.cookies(daemon.url);
    expect(cookie).toMatchObject({ name: 'ecoware_session', httpOnly: true, sameSite: 'Strict', secure: false });
    expect(cookie.expires * 1000 - Date.now()).toBeGreaterThan(11.9 * 3600 * 1000);
    expect(cookie.expires * 1000 - Date.now()).toBeLessThanOrEqual(12 * 3600 * 1000);
    await expectText(page.locator('.conn'), 'Live');
    expect(await page.locator('main button').count()).toBe(0);
    await page.goto(ui('#/executions'));
    await page.locator('tr[data-execution] a').first().click();
    await page.locator('.page[data-execution] .facts').waitFor();
    expect(await page.locator('main button').count()).toBe(0);
    // The session reads everything, the event stream included; a change is refused by the server.
    const tried = await page.evaluate(async () => {
      const read = await fetch('/api/nodes');
      const change = await fetch('/api/nodes/n1/cordon', { method: 'POST', headers: { 'x-requested-with': 'ecoware-ui' } });
      return { read: read.status, change: change.status };
    });
    expect(tried).toEqual({ read: 200, change: 403 });
    // An admin session may change, but only with the header a cross-site form cannot send.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('#token').fill(ADMIN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.page[data-execution]').waitFor();
    const admin = await page.evaluate(async () => {
      const bare = await fetch('/api/nodes/n1/cordon', { method: 'POST' });
      const fromPage = await fetch('/api/nodes/n1/uncordon', { method: 'POST', headers: { 'x-requested-with': 'ecoware-ui' } });
      return { bare: bare.status, fromPage: fromPage.status };
    });
    expect(admin).toEqual({ bare: 403, fromPage: 200 });
    await page.goto(ui('#/nodes'));
    await page.locator('[data-node="n1"]').getByRole('button', { name: 'Cordon' }).waitFor();
    // Signed out, the cookie no longer opens anything.
    const cookies = await context.cookies(daemon.url);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('#token').waitFor();
    const stale = await request(daemon.url).get('/api/nodes').set('cookie', `ecoware_session=${cookies[0].value}`);
    expect(stale.status).toBe(401);
  });

  it('asks for a token in a page that draws no frame, as a background tab does', async () => {
    // The daemon still has the tokens file of the test above. Without animation frames the page's
    // first effects run late, after GET /ui/session has answered: the form must come all the same.
    const background = await browser.context.newPage();
    try {
      await background.addInitScript(() => { window.requestAnimationFrame = () => 0; });
      await background.goto(ui('#/nodes'));
      await signInForm(background);
    } finally {
      await background.close();
    }
  });
});

/** Waits for the sign-in form; when it does not come, says what the page shows and what the daemon answers it. */
async function signInForm(page: Page): Promise<void> {
  await page.locator('#token').waitFor({ timeout: 30_000 }).catch(async () => {
    const shown = (await page.locator('body').innerText().catch(() => '(nothing)')).slice(0, 800);
    const session = await page.evaluate(async () => {
      const res = await fetch('/ui/session', { cache: 'no-store' }).catch((e) => ({ status: 0, text: async () => String(e) }));
      return `${res.status} ${(await res.text()).slice(0, 300)}`;
    }).catch((e) => String(e));
    throw new Error(`no sign-in form at ${page.url()}; the page shows: ${JSON.stringify(shown)}; GET /ui/session from it: ${session}`);
  });
}

async function expectText(locator: ReturnType<Page['locator']>, text: string): Promise<void> {
  await locator.filter({ hasText: text }).first().waitFor({ timeout: 5000 }).catch(async () => {
    throw new Error(`expected ${JSON.stringify(text)} in: ${(await locator.first().innerText().catch(() => '(nothing)')).slice(0, 1500)}`);
  });
}
