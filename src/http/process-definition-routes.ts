import express, { Request, Response } from 'express';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors';
import { isPlainObject } from '../domain/json-reader';
import { ProcessDefinition } from '../domain/process-definition';
import { parseProcessDefinition } from '../schema/process-definition';
import { ProcessDefinitionStore } from '../ports/process-definition-store';
import { pageEnvelope, readPage } from './pagination';

const BASE = '/api/process_definition';

export interface ProcessDefinitionRouterOptions {
  /** Fields of the topology in force that name `process:<id>`; a definition still named there cannot be deleted. */
  referencedBy?: (id: string) => string[];
}

/**
 * The process registry's API: `GET/POST /api/process_definition/`, `GET/PUT/DELETE
 * /api/process_definition/:id/` (trailing slash optional). Bodies are `{"definition": {...}}` as in
 * the registry; a bare definition is accepted too. Handlers throw domain errors; the app's error
 * mapper turns them into status codes.
 */
export function createProcessDefinitionRouter(store: ProcessDefinitionStore, options: ProcessDefinitionRouterOptions = {}): express.Router {
  const router = express.Router({ strict: false });

  router.get(BASE, async (req: Request, res: Response) => {
    const page = readPage(req.query);
    const { total, items } = await store.list(page);
    res.json(pageEnvelope(`${BASE}/`, page, total, items.map((item) => resource(item.id, item.definition))));
  });

  router.post(BASE, async (req: Request, res: Response) => {
    const definition = readDefinitionBody(req.body);
    const id = await store.create(definition);
    res.status(201).location(absoluteUri(req, resourceUri(id))).json(resource(id, definition));
  });

  router.get(`${BASE}/:id`, async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const definition = await store.get(id);
    if (!definition) throw notFound(id);
    res.json(resource(id, definition));
  });

  router.put(`${BASE}/:id`, async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const definition = readDefinitionBody(req.body);
    const { created } = await store.put(id, definition);
    if (created) res.status(201).location(absoluteUri(req, resourceUri(id)));
    res.json(resource(id, definition));
  });

  router.delete(`${BASE}/:id`, async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const users = options.referencedBy?.(id) ?? [];
    if (users.length > 0) {
      throw new ConflictError(`process definition '${id}' is used by the topology (${users.join(', ')}); change the topology first`);
    }
    if (!(await store.delete(id))) throw notFound(id);
    res.status(204).end();
  });

  return router;
}

function resourceUri(id: string): string {
  return `${BASE}/${encodeURIComponent(id)}/`;
}

function resource(id: string, definition: ProcessDefinition): { definition: Record<string, unknown>; id: number | string; resource_uri: string } {
  // The registry's ids are integers; keep them numbers in JSON so its clients see what they expect.
  const jsonId = /^\d{1,15}$/.test(id) ? Number(id) : id;
  return { definition: definition.document, id: jsonId, resource_uri: resourceUri(id) };
}

function absoluteUri(req: Request, uri: string): string {
  const host = req.get('host');
  return host ? `${req.protocol}://${host}${uri}` : uri;
}

function notFound(id: string): NotFoundError {
  return new NotFoundError(`no process definition '${id}'`);
}

/** `{"definition": {...}}` (the registry's body; `id` and `resource_uri` from a GET may ride along) or a bare definition. */
function readDefinitionBody(body: unknown): ProcessDefinition {
  if (!isPlainObject(body)) throw new ValidationError('', 'expected a JSON object {"definition": {...}}');
  if ('definition' in body) {
    for (const key of Object.keys(body)) {
      if (!['definition', 'id', 'resource_uri'].includes(key)) {
        throw new ValidationError(key, 'unknown field (expected definition)');
      }
    }
    return parseProcessDefinition(body.definition, 'definition');
  }
  if ('exec' in body) return parseProcessDefinition(body, '');
  throw new ValidationError('definition', 'is required');
}
