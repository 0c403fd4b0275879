import cron from 'node-cron';

/**
 * The one cron grammar of the project: node-cron's, the library the hooks refresh schedule runs on,
 * so whatever a topology is accepted with can also be scheduled. Five fields (minute hour
 * day-of-month month day-of-week) or six (seconds first), with node-cron's syntax (`*`, steps,
 * ranges, lists, month and weekday names, `@hourly`-style nicknames, `L`, `#`); dates that never come
 * (`0 0 31 2 *`) are refused. A check only: nothing is scheduled.
 */
export function isCronExpression(expression: string): boolean {
  return cron.validate(expression);
}
