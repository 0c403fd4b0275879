import { EventBus } from '../../src/domain/events';
import { Metrics } from '../../src/drivers/prometheus/metrics';
import { readConfig } from '../../src/config';

describe('job metrics', () => {
  it('reads the queue at each scrape and counts finished jobs from the bus', async () => {
    const metrics = new Metrics();
    const bus = new EventBus();
    metrics.follow(bus);
    let queued = 2;
    metrics.followJobs({
      counts: () => ({ queued, running: 1 }),
      demand: () => ({ cores: 3 * queued, mem_units: queued }),
      oldestQueuedSeconds: () => 42,
    });
    metrics.observeJobQueueWait(1.5);
    bus.publish({ type: 'job', id: 'j1', status: 'failed', template: 't', at: new Date().toISOString() });
    let text = await metrics.registry.metrics();
    expect(text).toContain('ecoware_jobs{state="queued"} 2');
    expect(text).toContain('ecoware_jobs{state="running"} 1');
    expect(text).toContain('ecoware_jobs{state="starting"} 0');
    expect(text).toContain('ecoware_job_queue_demand{resource="cores"} 6');
    expect(text).toContain('ecoware_job_queue_demand{resource="mem_units"} 2');
    expect(text).toContain('ecoware_job_oldest_queued_seconds 42');
    expect(text).toContain('ecoware_job_queue_wait_seconds_count 1');
    expect(text).toContain('ecoware_jobs_finished_total{state="failed"} 1');
    expect(text).toContain('ecoware_jobs_finished_total{state="succeeded"} 0');
    queued = 0;
    text = await metrics.registry.metrics();
    expect(text).toContain('ecoware_jobs{state="queued"} 0');
  });

  it('reads --job-log-kib, refusing what is not a size', () => {
    expect(readConfig({}, {}).jobLogKib).toBe(1024);
    expect(readConfig({ 'job-log-kib': '64' }, {}).jobLogKib).toBe(64);
    expect(() => readConfig({ 'job-log-kib': '0' }, {})).toThrow(/job-log-kib/);
  });
});
