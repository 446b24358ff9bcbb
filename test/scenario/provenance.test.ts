import { describe, expect, it } from 'vitest';
import { validateScenarioText } from '../../src/scenario/load.js';
import { countProvenance, provenanceOf } from '../../src/scenario/provenance.js';

const raw = {
  version: 1,
  sources: [
    {
      cite: 'A paper',
      url: 'https://example.org/paper',
      parameters: {
        'policies.p': 'the whole policy',
        'policies.p.actions.0.police.rate': '"throttled to 128 kbps"',
        'expect.0': 'measured 128 kbps',
      },
    },
    'a plain citation',
  ],
  assumed: { 'policies.p.actions.0.police.burst': 'no burst was published' },
  network: { downlink: { rate: '10mbit', delay: '20ms' } },
  classes: { c: { sni: ['x.lab'], 'tcp-ports': [443, '8000-8100'], inspect: { packets: 2 } } },
  policies: {
    p: {
      match: { class: 'c' },
      state: { 'idle-timeout': '10m' },
      actions: [{ police: { rate: '128kbit', burst: '16KB', direction: 'down' } }],
    },
  },
  expect: ['w.goodput <= 140kbit', 'w.delivery >= 99%'],
};

describe('provenanceOf', () => {
  const marks = provenanceOf(raw);
  const at = (path: string) => marks.find((m) => m.path === path);

  it('lists the numbers a source could give, not names, enums or workloads', () => {
    expect(marks.map((m) => m.path)).toEqual([
      'network.downlink.rate',
      'network.downlink.delay',
      'classes.c.tcp-ports.0',
      'classes.c.tcp-ports.1',
      'classes.c.inspect.packets',
      'policies.p.state.idle-timeout',
      'policies.p.actions.0.police.rate',
      'policies.p.actions.0.police.burst',
      'expect.0',
      'expect.1',
    ]);
  });

  it('lets the longest covering path decide', () => {
    expect(at('policies.p.actions.0.police.rate')).toMatchObject({
      status: 'cited',
      markedBy: 'policies.p.actions.0.police.rate',
      text: '"throttled to 128 kbps"',
      cite: 'A paper',
      url: 'https://example.org/paper',
    });
    expect(at('policies.p.actions.0.police.burst')).toMatchObject({
      status: 'assumed',
      text: 'no burst was published',
    });
    expect(at('policies.p.state.idle-timeout')).toMatchObject({
      status: 'cited',
      markedBy: 'policies.p',
    });
  });

  it('counts what nothing marks as unmarked', () => {
    expect(at('network.downlink.rate')?.status).toBe('unmarked');
    expect(at('expect.1')?.status).toBe('unmarked');
    expect(countProvenance(marks)).toEqual({ cited: 3, assumed: 1, unmarked: 6 });
  });
});

describe('validation of markings', () => {
  it('points at a marking whose path names nothing', () => {
    const text = [
      'version: 1',
      'sources:',
      '  - cite: A paper',
      '    parameters:',
      '      policies.nope.actions.0: a quote',
      'assumed:',
      '  expect.3: a reason',
      'expect:',
      "  - 'w.delivery >= 99%'",
      'workloads:',
      '  - { name: w, host: server, protocol: websocket }',
    ].join('\n');
    const v = validateScenarioText(text, 'x.yaml');
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.problems.map((p) => `${p.line}:${p.col} ${p.message}`)).toEqual([
      "5:7 'policies.nope.actions.0' names no value in this scenario (paths look like policies.<name>.actions.0.police.rate or expect.1)",
      "7:3 'expect.3' names no value in this scenario (paths look like policies.<name>.actions.0.police.rate or expect.1)",
    ]);
  });

  it('accepts free-text parameters as before', () => {
    const text = 'version: 1\nsources:\n  - { cite: A paper, parameters: rate and burst }\n';
    expect(validateScenarioText(text, 'x.yaml').ok).toBe(true);
  });
});
