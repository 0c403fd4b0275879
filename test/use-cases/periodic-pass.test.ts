import { PeriodicPass } from '../../src/use-cases/daemon/periodic-pass';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a periodic pass', () => {
  it('runs on its interval, never two at once, and goes on after one fails', async () => {
    let running = 0;
    let most = 0;
    let runs = 0;
    const loop = new PeriodicPass('test pass', async () => {
      runs += 1;
      running += 1;
      most = Math.max(most, running);
      try {
        await sleep(25); // longer than the interval: the ticks meanwhile start nothing
        if (runs === 1) throw new Error('the first pass fails');
      } finally {
        running -= 1;
      }
    });
    loop.start(5);
    for (const until = Date.now() + 5_000; runs < 3 && Date.now() < until;) await sleep(5);
    loop.stop();
    await loop.settled();
    expect(runs).toBeGreaterThanOrEqual(3);
    expect(most).toBe(1);
    const after = runs;
    await sleep(40);
    expect(runs).toBe(after);
  });

  it('does not run with an interval of 0, and start again replaces the timer', async () => {
    let runs = 0;
    const loop = new PeriodicPass('test pass', async () => { runs += 1; });
    loop.start(0);
    await sleep(30);
    expect(runs).toBe(0);
    loop.start(5);
    loop.start(5);
    await sleep(60);
    loop.stop();
    await loop.settled();
    // One timer, not two: at most one run a 5 ms tick.
    expect(runs).toBeGreaterThan(0);
    expect(runs).toBeLessThanOrEqual(13);
  });
});
