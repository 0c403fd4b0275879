import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import express from 'express';
import request from 'supertest';
import { FileProcessDefinitionStore } from '../support/json-layout/file-process-definition-store';
import { errorMapper } from '../../src/http/error-mapper';
import { createProcessDefinitionRouter } from '../../src/http/process-definition-routes';
import { parseProcessDefinition } from '../../src/schema/process-definition';
import { makeTempDir } from '../support/git-fixture';

const tr = {
  exec: '/usr/bin/tr',
  argv: ['-d', 'x'],
  input_adapter: { input_type: 'file', input_parameters: { file_type: 'stream', stream_name: 'STDIN' } },
  output_adapter: { output_type: 'file', output_parameters: { file_type: 'stream', stream_name: 'STDOUT' } },
};

function appFor(stateDir: string, referencedBy?: (id: string) => string[]) {
  const app = express();
  app.use(express.json({ type: () => true }));
  app.use(createProcessDefinitionRouter(new FileProcessDefinitionStore(stateDir), { referencedBy }));
  app.use(errorMapper);
  return app;
}

describe('process definition registry over HTTP', () => {
  let stateDir: string;
  beforeEach(() => { stateDir = makeTempDir('ecoware-pd-'); });
  afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

  it('creates with 201 and Location, reads, replaces and deletes, with and without trailing slash', async () => {
    const app = appFor(stateDir);

    const created = await request(app).post('/api/process_definition/').send({ definition: tr }).expect(201);
    expect(created.body).toEqual({ definition: tr, id: 1, resource_uri: '/api/process_definition/1/' });
    expect(created.headers.location).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/process_definition\/1\/$/);

    expect((await request(app).get('/api/process_definition/1/').expect(200)).body).toEqual(created.body);
    expect((await request(app).get('/api/process_definition/1').expect(200)).body.definition).toEqual(tr);

    const changed = { ...tr, argv: ['-d', 'y'] };
    const put = await request(app).put('/api/process_definition/1/').send({ definition: changed }).expect(200);
    expect(put.body.definition.argv).toEqual(['-d', 'y']);
    expect((await request(app).get('/api/process_definition/1').expect(200)).body.definition.argv).toEqual(['-d', 'y']);

    await request(app).delete('/api/process_definition/1/').expect(204);
    const gone = await request(app).get('/api/process_definition/1/').expect(404);
    expect(gone.body.code).toBe('not_found');
    await request(app).delete('/api/process_definition/1').expect(404);
    await request(app).put('/api/process_definition/1').send({ bogus: true }).expect(400);
  });

  it('accepts a bare definition body, and PUT under a new name creates it (201)', async () => {
    const app = appFor(stateDir);
    expect((await request(app).post('/api/process_definition').send({ exec: '/bin/true' }).expect(201)).body.id).toBe(1);
    const named = await request(app).put('/api/process_definition/reload-pool/').send({ definition: tr }).expect(201);
    expect(named.body).toMatchObject({ id: 'reload-pool', resource_uri: '/api/process_definition/reload-pool/' });
    expect(named.headers.location).toMatch(/\/api\/process_definition\/reload-pool\/$/);
    await request(app).put('/api/process_definition/..%2Fetc/').send({ definition: tr }).expect(400);
  });

  it('lists in the registry envelope with limit and offset', async () => {
    const app = appFor(stateDir);
    for (let i = 0; i < 5; i++) {
      await request(app).post('/api/process_definition/').send({ definition: { exec: `/bin/p${i}` } }).expect(201);
    }

    const first = await request(app).get('/api/process_definition/').expect(200);
    expect(first.body.meta).toEqual({ limit: 20, next: null, offset: 0, previous: null, total_count: 5 });
    expect(first.body.objects.map((o: { id: number }) => o.id)).toEqual([1, 2, 3, 4, 5]);

    const page = await request(app).get('/api/process_definition/?limit=2&offset=2').expect(200);
    expect(page.body.meta).toEqual({
      limit: 2, offset: 2, total_count: 5,
      next: '/api/process_definition/?limit=2&offset=4',
      previous: '/api/process_definition/?limit=2&offset=0',
    });
    expect(page.body.objects).toEqual([
      { definition: { exec: '/bin/p2' }, id: 3, resource_uri: '/api/process_definition/3/' },
      { definition: { exec: '/bin/p3' }, id: 4, resource_uri: '/api/process_definition/4/' },
    ]);

    for (const bad of ['limit=-1', 'limit=abc', 'offset=1.5', 'limit=0']) {
      const res = await request(app).get(`/api/process_definition/?${bad}`).expect(400);
      expect(res.body.code).toBe('invalid');
    }
  });

  it.each([
    [{ definition: {} }, 'definition.exec'],
    [{ definition: { exec: '/x', input_adapter: { input_type: 'tcp' } } }, 'definition.input_adapter.input_type'],
    [{ definition: { exec: '/x', output_adapter: { output_type: 'file', output_parameters: { file_type: 'stream', stream_name: 'STDIN' } } } },
      'definition.output_adapter.output_parameters.stream_name'],
    [{ definition: { exec: '/x', argv: ['${input_file}'] } }, 'definition.argv[0]'],
    [{ definition: { exec: '/x', argv: 'one two' } }, 'definition.argv'],
    [{ definition: { exec: '/x', timeout: 'soon' } }, 'definition.timeout'],
    [{ something: 'else' }, 'definition'],
    [[tr], ''],
  ])('refuses %j with 400 naming %s, and stores nothing', async (body, field) => {
    const app = appFor(stateDir);
    const res = await request(app).post('/api/process_definition/').send(body).expect(400);
    expect(res.body).toMatchObject({ code: 'invalid', field });
    expect((await request(app).get('/api/process_definition/')).body.meta.total_count).toBe(0);
  });

  it('refuses malformed JSON with 400', async () => {
    const app = appFor(stateDir);
    await request(app).post('/api/process_definition/').set('Content-Type', 'application/json').send('{"definition": ').expect(400);
  });

  it('refuses to delete a definition the topology still names (409)', async () => {
    const app = appFor(stateDir, (id) => (id === '1' ? ['apps[0].tiers.db.on_node_scale'] : []));
    await request(app).post('/api/process_definition/').send({ definition: tr }).expect(201);
    const res = await request(app).delete('/api/process_definition/1/').expect(409);
    expect(res.body.error).toContain('apps[0].tiers.db.on_node_scale');
    await request(app).get('/api/process_definition/1/').expect(200);
  });

  it('survives a restart: a new store over the same state dir sees the same registry, and ids are not reused', async () => {
    await request(appFor(stateDir)).post('/api/process_definition/').send({ definition: tr }).expect(201);
    await request(appFor(stateDir)).post('/api/process_definition/').send({ definition: { exec: '/bin/two' } }).expect(201);
    await request(appFor(stateDir)).delete('/api/process_definition/2/').expect(204);

    const restarted = appFor(stateDir);
    const list = await request(restarted).get('/api/process_definition/').expect(200);
    expect(list.body.objects).toEqual([{ definition: tr, id: 1, resource_uri: '/api/process_definition/1/' }]);
    const third = await request(restarted).post('/api/process_definition/').send({ definition: { exec: '/bin/three' } }).expect(201);
    expect(third.body.id).toBe(3);
    // Written atomically: no temporary file is left beside the registry.
    expect(readdirSync(stateDir)).toEqual(['process-definitions.json']);
    expect(JSON.parse(readFileSync(path.join(stateDir, 'process-definitions.json'), 'utf8')).definitions).toHaveLength(2);
  });

  it('serialises concurrent creates: every definition gets its own id and all are kept', async () => {
    const store = new FileProcessDefinitionStore(stateDir);
    const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => store.create(parseProcessDefinition({ exec: `/bin/c${i}` }, 'd'))));
    expect(new Set(ids).size).toBe(20);
    expect((await new FileProcessDefinitionStore(stateDir).list({ offset: 0 })).total).toBe(20);
  });

  it('reports an unreadable registry file instead of starting empty', async () => {
    writeFileSync(path.join(stateDir, 'process-definitions.json'), '{ not json');
    const res = await request(appFor(stateDir)).get('/api/process_definition/').expect(502);
    expect(res.body.error).toMatch(/unreadable/);
  });
});
