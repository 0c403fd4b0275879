import { ValidationError } from '../../src/domain/errors';

/** The ValidationError that `run` throws; any other error is rethrown, and no error at all fails with `accepted`. */
export function refusal(run: () => unknown): ValidationError {
  try {
    run();
  } catch (e) {
    if (e instanceof ValidationError) return e;
    throw e;
  }
  throw new Error('accepted');
}
