import { parseProcessDefinition } from '../../src/schema/process-definition';

const refusal = (value: unknown, field = 'definition'): string => {
  try {
    parseProcessDefinition(value, field);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('accepted');
};

describe('a process definition read through its schema', () => {
  it('names the field and says what is wrong with it', () => {
    expect(refusal({ exec: 'x', colour: 'red' })).toBe(
      'definition.colour: unknown field (expected exec, argv, args, environment, cwd, timeout, input_adapter, output_adapter, application, process_type)');
    expect(refusal({ timeout: 5 })).toBe('definition.exec: is required');
    expect(refusal({ exec: 5 }, '')).toBe('exec: must be a non-empty string');
    expect(refusal({ exec: 'x', argv: ['ok', {}] })).toBe('definition.argv[1]: must be a string');
    expect(refusal({ exec: 'x', argv: ['a\0b'] })).toBe('definition.argv[0]: must not contain NUL characters');
    expect(refusal({ exec: 'x', environment: { A: [] } })).toBe('definition.environment.A: must be a string, number or boolean');
    expect(refusal({ exec: 'x', cwd: 'opt' })).toBe('definition.cwd: must be an absolute path (inside the container)');
    expect(refusal({ exec: 'x', timeout: '60' })).toBe('definition.timeout: must be a positive number of seconds (at most 86400)');
    expect(refusal({ exec: 'x', process_type: 'service' })).toBe("definition.process_type: only 'single' is supported (a hook runs to completion)");
  });

  it('takes numbers and booleans as text, null as absent, and seconds as milliseconds', () => {
    expect(parseProcessDefinition({ exec: 'x', argv: [1, true, ''], environment: { N: 2 }, cwd: null, timeout: 1.5 }, '')).toMatchObject({
      argv: ['1', 'true', ''], environment: { N: '2' }, cwd: undefined, timeoutMs: 1500,
    });
  });
});
