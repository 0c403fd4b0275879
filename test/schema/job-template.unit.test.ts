import { ValidationError } from '../../src/domain/errors';
import { parseDispatch, parseJobTemplate } from '../../src/schema/job-template';

function fieldOf(read: () => unknown): string | undefined {
  try {
    read();
  } catch (e) {
    if (e instanceof ValidationError) return e.field;
    throw e;
  }
  return undefined;
}

describe('job templates as read from PUT bodies', () => {
  it('applies the defaults of SPEC §10', () => {
    expect(parseJobTemplate('count', { image: 'busybox', command: 'sh -c true' }, { keepLogsKib: 64 })).toEqual({
      image: 'busybox', command: ['sh', '-c', 'true'], env: {}, cpu_cores: 1, mem_units: 1, retries: 0, retry_on: ['node_lost'],
      input: { mode: 'arg', max_bytes: 1024 * 1024 }, keep_logs_kib: 64,
    });
    expect(parseJobTemplate('pod', { install: { base_image: 'busybox', script: 'echo hi > main.sh' } })).toMatchObject({ command: ['./main.sh'], cwd: '/ecoware/app' });
  });

  it.each([
    ['Bad Name', { image: 'busybox' }, 'name'],
    ['t', {}, 'image'],
    ['t', { image: 'busybox', install: { base_image: 'busybox', script: 'x' } }, 'install'],
    ['t', { install: { base_image: 'busybox' } }, 'install.script'],
    ['t', { image: 'busybox', cpu_cores: 0 }, 'cpu_cores'],
    ['t', { image: 'busybox', mem_units: 1.5 }, 'mem_units'],
    ['t', { image: 'busybox', timeout_s: 0 }, 'timeout_s'],
    ['t', { image: 'busybox', timeout_s: -3 }, 'timeout_s'],
    ['t', { image: 'busybox', retry_on: ['sometimes'] }, 'retry_on[0]'],
    ['t', { image: 'busybox', input: { mode: 'socket' } }, 'input.mode'],
    ['t', { image: 'busybox', env: { 'A-B': '1' } }, 'env.A-B'],
    ['t', { image: 'busybox', node_selector: { zone: 3 } }, 'node_selector.zone'],
    ['t', { image: 'busybox', node_selector: { 'bad key!': 'a' } }, 'node_selector.bad key!'],
    ['t', { image: 'busybox', cwd: 'relative' }, 'cwd'],
    ['t', { image: 'busybox', colour: 'red' }, 'colour'],
    ['t', { image: 'not an image' }, 'image'],
  ])('%s %j is refused naming %s', (name, body, field) => {
    expect(fieldOf(() => parseJobTemplate(name, body))).toBe(field);
  });
});

describe('dispatches as read from POST /api/jobs', () => {
  it('reads a dispatch', () => {
    expect(parseDispatch({ template: 't', input: 'x', env: { A: 1 }, priority: 5, idempotency_key: 'k' })).toEqual({ template: 't', input: 'x', env: { A: '1' }, priority: 5, idempotency_key: 'k' });
  });

  it.each([
    [{}, 'template'],
    [{ template: '' }, 'template'],
    [{ template: 't', timeout_s: 0 }, 'timeout_s'],
    [{ template: 't', timeout_s: 'soon' }, 'timeout_s'],
    [{ template: 't', input: 3 }, 'input'],
    [{ template: 't', env: { '1A': 'x' } }, 'env.1A'],
    [{ template: 't', priority: 1.5 }, 'priority'],
    [{ template: 't', max_queue_s: -1 }, 'max_queue_s'],
    [{ template: 't', idempotency_key: 'k'.repeat(201) }, 'idempotency_key'],
    [{ template: 't', extra: true }, 'extra'],
  ])('%j is refused naming %s', (body, field) => {
    expect(fieldOf(() => parseDispatch(body))).toBe(field);
  });
});
