import { ValidationError } from '../../src/domain/errors';
import { parseTopology } from '../../src/schema/topology-file';
import { HookRefreshSchedule } from '../../src/drivers/git-hooks/hook-refresh-schedule';

/**
 * One cron grammar: a `hooks_refresh` the topology accepts is one the refresh schedule can start,
 * and one it refuses is refused when the topology is read, before anything is persisted or put in
 * force.
 */
const topologyWith = (hooksRefresh: string) => ({
  infrastructure: { cpu_cores: 2, mem_units: 8, hooks_refresh: hooksRefresh },
  apps: [{ name: 'a', tiers: { t: { docker_image: 'busybox' } } }],
});

function scheduleStarts(expression: string): boolean {
  const schedule = new HookRefreshSchedule({ warn: () => undefined });
  try {
    schedule.start(expression, async () => undefined);
    return true;
  } catch {
    return false;
  } finally {
    void schedule.stop();
  }
}

describe('hooks_refresh', () => {
  it.each([
    '*/5 * * * *', '* * * * *', '0 * * * *', '0 0 1 1 *', '15,45 8-18 * * mon-fri', '0 9 * jan-mar 1',
    '*/10 * * * * *', '0 0 * * 7', '0 0 1-15/2 * *', '30 2 * * SUN', '@hourly', '@daily', ' @weekly ', '0 0 29 2 *',
  ])('accepts %p, and the schedule starts with it', (expression) => {
    expect(parseTopology(topologyWith(expression)).infrastructure.hooksRefresh).toBe(expression);
    expect(scheduleStarts(expression)).toBe(true);
  });

  it.each([
    '', 'not cron', 'every five minutes', '* * *', '* * * * * * *', '60 * * * *', '* 24 * * *', '* * 0 * *',
    '* * * 13 *', '* * * * funday', '@every5m', '0 0 31 2 *', '0 0 30 2 *', '0 0 31 4 *',
  ])('refuses %p when the topology is read, naming the field, as the schedule does', (expression) => {
    const error = (() => { try { parseTopology(topologyWith(expression)); } catch (e) { return e; } return undefined; })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('infrastructure.hooks_refresh');
    expect(scheduleStarts(expression)).toBe(false);
  });
});
