import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../../src/actors/index.js';

describe('metrics: Prometheus text exposition', () => {
  it('renders counters, gauges and histograms exactly', () => {
    const m = new MetricsRegistry();
    const c = m.counter('requests_total', 'Requests served', ['method']);
    c.inc({ method: 'get' });
    c.inc({ method: 'get' }, 2);
    c.inc({ method: 'post' });
    m.gauge('queue_depth', 'Items waiting').set(undefined, 7);
    const h = m.histogram('latency_seconds', 'Latency', [], [0.1, 1]);
    h.observe(undefined, 0.05);
    h.observe(undefined, 0.5);
    h.observe(undefined, 3);
    expect(m.render()).toBe(
      [
        '# HELP requests_total Requests served',
        '# TYPE requests_total counter',
        'requests_total{method="get"} 3',
        'requests_total{method="post"} 1',
        '# HELP queue_depth Items waiting',
        '# TYPE queue_depth gauge',
        'queue_depth 7',
        '# HELP latency_seconds Latency',
        '# TYPE latency_seconds histogram',
        'latency_seconds_bucket{le="0.1"} 1',
        'latency_seconds_bucket{le="1"} 2',
        'latency_seconds_bucket{le="+Inf"} 3',
        'latency_seconds_sum 3.55',
        'latency_seconds_count 3',
        '',
      ].join('\n'),
    );
  });

  it('escapes label values and help text', () => {
    const m = new MetricsRegistry();
    m.counter('x_total', 'line1\nline2 \\ back', ['path']).inc({ path: 'a"b\\c\nd' });
    expect(m.render()).toContain('# HELP x_total line1\\nline2 \\\\ back');
    expect(m.render()).toContain('x_total{path="a\\"b\\\\c\\nd"} 1');
  });

  it('refuses bad names, unknown labels, decreasing counters and type clashes', () => {
    const m = new MetricsRegistry();
    expect(() => m.counter('1bad', 'x')).toThrow(/invalid metric name/);
    expect(() => m.counter('ok_total', 'x', ['le'])).toThrow(/invalid label/);
    const c = m.counter('ok_total', 'x', ['a']);
    expect(() => c.inc({ b: 1 })).toThrow(/unknown label b/);
    expect(() => c.inc({ a: 1 }, -1)).toThrow(/cannot decrease/);
    expect(() => m.gauge('ok_total', 'x')).toThrow(/already registered as counter/);
    expect(m.counter('ok_total', 'x', ['a'])).toBe(c);
  });

  it('computes collected values at scrape time', () => {
    const m = new MetricsRegistry();
    let depth = 1;
    m.gauge('depth', 'd', ['q']).collect(() => [[{ q: 'a' }, depth]]);
    expect(m.render()).toContain('depth{q="a"} 1');
    depth = 5;
    expect(m.render()).toContain('depth{q="a"} 5');
  });

  it('histogram snapshot counts are cumulative per bucket', () => {
    const h = new MetricsRegistry().histogram('h', 'h', ['k'], [1, 2, 3]);
    for (const v of [0.5, 1.5, 2.5, 2.5, 9]) h.observe({ k: 'x' }, v);
    expect(h.snapshot({ k: 'x' })).toEqual({
      count: 5,
      sum: 16,
      buckets: [
        [1, 1],
        [2, 2],
        [3, 4],
      ],
    });
  });
});
