import express from 'express';
import request from 'supertest';
import {
  ConflictError, DomainError, ErrorCode, InfrastructureError, NoSolutionError, NotFoundError, StartingError, UnsatisfiableError, ValidationError,
} from '../../src/domain/errors';
import { Execution, newExecution } from '../../src/domain/execution';
import { errorMapper, statusOf, statusOfCode, STATUS_OF_CODE } from '../../src/http/error-mapper';
import { RequestErrorCode, sendError, STATUS_OF_REQUEST_CODE } from '../../src/http/error-codes';
import { statusOfExecution } from '../../src/http/execution-responses';

/** One table from codes to statuses, for thrown errors and finished executions alike. */
describe('error codes to HTTP statuses', () => {
  it.each<[ErrorCode, number]>([
    ['invalid', 400], ['invalid_json', 400], ['not_found', 404], ['conflict', 409], ['cancelled', 409], ['too_large', 413],
    ['no_solution', 422], ['unsatisfiable', 422], ['held_by_jobs', 422],
    ['action_failed', 502], ['infrastructure', 502], ['engine', 502], ['cloud', 502], ['cloud_timeout', 502], ['timeout', 502],
    ['state', 502], ['tls_files', 502], ['not_a_file', 502], ['file_too_large', 502],
    ['interrupted', 500], ['internal', 500], ['starting', 503],
  ])('%s answers %i', (code, status) => {
    expect(statusOfCode(code)).toBe(status);
  });

  it('knows every code it is asked about, and answers 500 for one it does not', () => {
    expect(Object.keys(STATUS_OF_CODE)).toHaveLength(22);
    expect(statusOfCode('made_up')).toBe(500);
    expect(statusOfCode(undefined)).toBe(500);
  });

  it.each<[DomainError, number]>([
    [new ValidationError('apps[0].name', 'must be a string'), 400],
    [new NotFoundError('execution x not found'), 404],
    [new ConflictError('busy'), 409],
    [new NoSolutionError(), 422],
    [new UnsatisfiableError('pool too small'), 422],
    [new InfrastructureError('engine call timed out', 'timeout'), 502],
    [new InfrastructureError('state file unreadable', 'state'), 502],
    [new StartingError('the daemon is starting', 1), 503],
  ])('a thrown %p answers %i with its code and message', async (error, status) => {
    const app = express();
    app.get('/x', () => { throw error; });
    app.use(errorMapper);
    const res = await request(app).get('/x');
    expect(res.status).toBe(status);
    expect(statusOf(error)).toBe(status);
    expect(res.body).toMatchObject({ error: error.message, code: error.code });
  });

  it('answers a thrown non-domain error with 500 and no stack', async () => {
    const app = express();
    app.get('/x', () => { throw new Error('secret internals'); });
    app.use(errorMapper);
    const spy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const res = await request(app).get('/x');
    spy.mockRestore();
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: 'internal error', code: 'internal' });
  });

  const finished = (status: Execution['status'], code?: ErrorCode): Execution => ({
    ...newExecution('e', {}), status, ...(code ? { error: { code, message: 'm' } } : {}),
  });
  it.each<[Execution['status'], ErrorCode | undefined, number]>([
    ['succeeded', undefined, 200],
    ['cancelled', 'cancelled', 409],
    ['cancelled', undefined, 409],
    ['failed', 'action_failed', 502],
    ['failed', 'timeout', 502],
    ['failed', 'state', 502],
    ['failed', 'no_solution', 422],
    ['failed', 'invalid', 400],
    ['failed', 'conflict', 409],
    ['failed', 'internal', 500],
  ])('a %s execution with code %s answers %i', (status, code, http) => {
    expect(statusOfExecution(finished(status, code))).toBe(http);
  });
});

describe("the HTTP layer's own refusals", () => {
  it.each<[RequestErrorCode, number]>([
    ['unauthorized', 401], ['forbidden', 403], ['misdirected', 421], ['unsupported_media_type', 415], ['unsupported_charset', 415],
    ['unsupported_encoding', 415], ['invalid_utf8', 400], ['invalid_body', 400], ['aborted', 400], ['invalid_path', 400],
    ['bad_request', 400], ['shutting_down', 503],
  ])('%s answers %i, from the same table as the domain codes', async (code, status) => {
    expect(Object.keys(STATUS_OF_REQUEST_CODE)).toContain(code);
    expect(statusOfCode(code)).toBe(status);
    const app = express();
    app.get('/x', (_req, res) => sendError(res, code, 'no'));
    expect((await request(app).get('/x')).status).toBe(status);
  });
});
