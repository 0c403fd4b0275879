import { ValidationError } from '../../src/domain/errors';
import { expandPlaceholders } from '../../src/domain/process-definition';
import { parseProcessDefinition } from '../../src/schema/process-definition';
import { parseTopology } from '../../src/schema/topology-file';

const stdinAdapter = { input_type: 'file', input_parameters: { file_type: 'stream', stream_name: 'STDIN' } };
const stdoutAdapter = { output_type: 'file', output_parameters: { file_type: 'stream', stream_name: 'STDOUT' } };

describe('parseProcessDefinition', () => {
  it('reads the registry example (tr with STDIN and STDOUT)', () => {
    const def = parseProcessDefinition({
      exec: '/usr/bin/tr', argv: ['-d', 'x'], input_adapter: stdinAdapter, output_adapter: stdoutAdapter,
    }, 'definition');
    expect(def).toMatchObject({
      exec: '/usr/bin/tr', argv: ['-d', 'x'], environment: {},
      inputAdapter: { kind: 'stdin' }, outputAdapter: { kind: 'stream', stream: 'STDOUT' },
    });
    expect(def.document.argv).toEqual(['-d', 'x']);
  });

  it('reads file adapters with placeholders, timeout in seconds, cwd and environment', () => {
    const def = parseProcessDefinition({
      exec: '/usr/local/bin/ffmpeg',
      argv: ['-i', '${input_file}', '-q:a', '2', '${output_file}'],
      environment: { MODE: 'fast', THREADS: 2 },
      cwd: '/opt',
      timeout: 2.5,
      application: 'media',
      process_type: 'single',
      input_adapter: { input_type: 'file', input_parameters: { file_path: '${input_file}' } },
      output_adapter: { output_type: 'file', output_params: { file_path: '${output_file}' } },
    }, 'definition');
    expect(def).toMatchObject({
      environment: { MODE: 'fast', THREADS: '2' }, cwd: '/opt', timeoutMs: 2500,
      inputAdapter: { kind: 'file', path: undefined }, outputAdapter: { kind: 'file', path: undefined },
    });
    expect(expandPlaceholders(def, { inputFile: '/tmp/in.json', outputFile: '/tmp/out' }).argv)
      .toEqual(['-i', '/tmp/in.json', '-q:a', '2', '/tmp/out']);
  });

  it('accepts adapter parameters written flat in the adapter, an absolute file path, and args as argv', () => {
    const def = parseProcessDefinition({
      exec: 'someproc', args: ['--quiet', '${input_file}'],
      input_adapter: { input_type: 'file', file_path: '/etc/app/scale.json' },
      output_adapter: { output_type: 'file', file_type: 'stream', stream_name: 'STDERR' },
    }, '');
    expect(def.argv).toEqual(['--quiet', '${input_file}']);
    expect(def.inputAdapter).toEqual({ kind: 'file', path: '/etc/app/scale.json' });
    expect(def.outputAdapter).toEqual({ kind: 'stream', stream: 'STDERR' });
  });

  it('defaults to the payload on stdin and no output', () => {
    expect(parseProcessDefinition({ exec: '/bin/true' }, 'd')).toMatchObject({ inputAdapter: { kind: 'stdin' }, outputAdapter: { kind: 'none' } });
  });

  it.each([
    [{}, 'definition.exec'],
    [{ exec: '' }, 'definition.exec'],
    [{ exec: 5 }, 'definition.exec'],
    [{ exec: 'x', argv: 'a b' }, 'definition.argv'],
    [{ exec: 'x', argv: [{}] }, 'definition.argv[0]'],
    [{ exec: 'x', argv: [], args: [] }, 'definition.args'],
    [{ exec: 'x', environment: ['A=1'] }, 'definition.environment'],
    [{ exec: 'x', environment: { 'BAD-NAME': '1' } }, 'definition.environment.BAD-NAME'],
    [{ exec: 'x', cwd: 'relative' }, 'definition.cwd'],
    [{ exec: 'x', timeout: 0 }, 'definition.timeout'],
    [{ exec: 'x', timeout: '60' }, 'definition.timeout'],
    [{ exec: 'x', process_type: 'service' }, 'definition.process_type'],
    [{ exec: 'x', colour: 'red' }, 'definition.colour'],
    [{ exec: 'x', input_adapter: 'stdin' }, 'definition.input_adapter'],
    [{ exec: 'x', input_adapter: { input_type: 'tcp', input_parameters: { tcp_port: 8090 } } }, 'definition.input_adapter.input_type'],
    [{ exec: 'x', input_adapter: { input_parameters: { file_path: '${input_file}' } } }, 'definition.input_adapter.input_type'],
    [{ exec: 'x', input_adapter: { input_type: 'file', input_parameters: { file_type: 'stream', stream_name: 'STDOUT' } } },
      'definition.input_adapter.input_parameters.stream_name'],
    [{ exec: 'x', input_adapter: { input_type: 'file', input_parameters: { file_type: 'pipe' } } }, 'definition.input_adapter.input_parameters.file_type'],
    [{ exec: 'x', input_adapter: { input_type: 'file', input_parameters: { chunk_size: '10KB' } } }, 'definition.input_adapter.input_parameters.chunk_size'],
    [{ exec: 'x', input_adapter: { input_type: 'file', input_parameters: {} } }, 'definition.input_adapter.input_parameters.file_path'],
    [{ exec: 'x', input_adapter: { input_type: 'file', input_parameters: { file_path: 'rel/in.json' } } }, 'definition.input_adapter.input_parameters.file_path'],
    [{ exec: 'x', input_adapter: { input_type: 'file', file_path: '/a', input_parameters: { file_path: '/b' } } }, 'definition.input_adapter.input_parameters.file_path'],
    [{ exec: 'x', output_adapter: { output_type: 'socket' } }, 'definition.output_adapter.output_type'],
    [{ exec: 'x', output_adapter: { output_type: 'file', output_parameters: { file_type: 'stream', stream_name: 'STDIN' } } },
      'definition.output_adapter.output_parameters.stream_name'],
    [{ exec: 'x', argv: ['${input_file}'] }, 'definition.argv[0]'],
    [{ exec: 'x', argv: ['-o', '${output_file}'], output_adapter: stdoutAdapter }, 'definition.argv[1]'],
    [{ exec: 'x', environment: { OUT: '${output_file}' } }, 'definition.environment.OUT'],
  ])('refuses %j naming %s', (value, field) => {
    let error: unknown;
    try {
      parseProcessDefinition(value, 'definition');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe(field);
  });

  it('is what a topology tier may give inline, with errors naming the tier field', () => {
    const topology = (hook: unknown) => ({
      infrastructure: { cpu_cores: 2, mem_units: 8 },
      apps: [{ name: 'shop', tiers: { db: { docker_image: 'busybox', on_node_scale: hook } } }],
    });
    const tier = parseTopology(topology({ exec: '/bin/sh', argv: ['-c', 'cat'], output_adapter: stdoutAdapter })).tiers.get('shop_db')!;
    expect(tier.onNodeScale).toMatchObject({ kind: 'process', definition: { exec: '/bin/sh', outputAdapter: { kind: 'stream' } } });
    expect(() => parseTopology(topology({ exec: '/bin/sh', argv: ['${output_file}'] })))
      .toThrow(/apps\[0\]\.tiers\.db\.on_node_scale\.argv\[0\]/);
  });
});
