import cron from 'node-cron';
import { isStandardCronExpression } from '../../src/domain/cron-expression';

describe('isStandardCronExpression', () => {
  it.each([
    '*/5 * * * *', '* * * * *', '0 * * * *', '0 0 1 1 *', '15,45 8-18 * * mon-fri', '0 9 * jan-mar 1',
    '*/10 * * * * *', '0 0 * * 7', '0 0 1-15/2 * *', '30 2 * * SUN', '@hourly', '@daily', ' @weekly ', '0  */2 * * *',
  ])('accepts %p, and so does the scheduler', (expr) => {
    expect(isStandardCronExpression(expr)).toBe(true);
    expect(cron.validate(expr)).toBe(true);
  });

  it.each([
    '', 'not cron', '* * *', '* * * * * * *', '60 * * * *', '* 24 * * *', '* * 0 * *', '* * * 13 *', '* * * * 8',
    '*/0 * * * *', '5/15 * * * *', '10-5 * * * *', '* * * * funday', '@every5m', '* * L * *', '0 0 * * 1#2', '1,,2 * * * *',
  ])('refuses %p', (expr) => {
    expect(isStandardCronExpression(expr)).toBe(false);
  });
});
