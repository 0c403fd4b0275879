import { availableParallelism } from 'os';
import { readConfig } from '../src/config';
import { ValidationError } from '../src/domain/errors';

describe('--solver-threads', () => {
  it("is the machine's cores when neither the flag nor the environment gives it", () => {
    expect(readConfig({}, {}).solverThreads).toBe(Math.max(1, availableParallelism()));
  });

  it('takes the flag over ECOWARE_SOLVER_THREADS', () => {
    expect(readConfig({ 'solver-threads': '3' }, { ECOWARE_SOLVER_THREADS: '5' }).solverThreads).toBe(3);
    expect(readConfig({}, { ECOWARE_SOLVER_THREADS: '1' }).solverThreads).toBe(1);
  });

  it('refuses what is not a whole number of threads from 1', () => {
    for (const value of ['0', '-2', '1.5', 'many', '']) {
      expect(() => readConfig({ 'solver-threads': value }, {})).toThrow(ValidationError);
    }
  });
});
