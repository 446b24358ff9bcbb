/**
 * flows.ndjson from the core's snapshots without a lab: times moved from the pipeline's
 * clock to the run's, an `open` line when a flow is first seen, samples of what changed
 * since the previous snapshot, the final record when a flow ends or the run does; and
 * the capture settings a run hands the core.
 */
import { describe, expect, it } from 'vitest';
import type { FlowRecord, FlowSnapshot } from '../../src/native/index.js';
import type { FlowLine } from '../../src/record/flows.js';
import { captureConfig } from '../../src/run/capture.js';
import { FlowLog } from '../../src/run/flow-log.js';
import type { NdjsonFile } from '../../src/run/results.js';
import { workload } from '../metrics/workload.js';

const S = 1e9;

function record(id: number, packets: number, live = true): FlowRecord {
  const dir = {
    packets_in: packets,
    bytes_in: packets * 100,
    packets_out: packets,
    bytes_out: packets * 100,
    goodput_bytes: packets * 72,
    drops: {},
  };
  return {
    id,
    proto: 'udp',
    client: '198.18.0.1',
    client_port: 4000 + id,
    server: '198.19.1.1',
    server_port: 3478,
    opened_by: 'client',
    first_ns: 100 * S + 0.5 * S,
    last_ns: 100 * S + S,
    live,
    classes: [],
    policies: [],
    actions: [],
    up: dir,
    down: { ...dir, packets_out: 0, bytes_out: 0, goodput_bytes: 0 },
  };
}

describe('FlowLog', () => {
  const written: FlowLine[] = [];
  const file = { write: (l: FlowLine) => written.push(l) } as unknown as NdjsonFile;
  // The lab opened at CLOCK_MONOTONIC 1000 s; the run's t0 is 1100 s: pipeline 100 s is run 0.
  const t0 = BigInt(1100 * S);
  const snap = (t: number, flows: FlowRecord[]): FlowSnapshot => ({
    t,
    clock_base_ns: 1000 * S,
    lost_records: 0,
    flows,
  });
  const voice = workload({
    name: 'voice',
    protocol: 'udp-voice',
    port: 3478,
    address: '198.19.1.1',
  });
  const log = new FlowLog(file, t0, {
    workloads: [voice],
    hosts: [{ name: 'call', names: [], address: '198.19.1.1', address6: null }],
  });

  it('opens, samples and ends each flow on the run clock', () => {
    log.take([snap(101 * S, [record(1, 10)])]);
    log.take([snap(102 * S, [record(1, 25)]), snap(103 * S, [])]);
    log.finish([snap(104 * S, [record(1, 30)])]);
    expect(written.map((l) => l.ev)).toEqual(['open', 'sample', 'sample', 'sample', 'flow']);
    expect(written[0]).toMatchObject({ ev: 'open', t: 0.5 * S, workload: 'voice', host: 'call' });
    expect(written[1]).toMatchObject({
      from: 0.5 * S,
      t: 1 * S,
      up: { packets: 10, goodput_bytes: 720 },
    });
    expect(written[2]).toMatchObject({ from: 1 * S, t: 2 * S, up: { packets: 15 } });
    // The last sample starts at the snapshot before it (3 s), which had nothing of it.
    expect(written[3]).toMatchObject({ from: 3 * S, t: 4 * S, up: { packets: 5 } });
    expect(written[4]).toMatchObject({
      ev: 'flow',
      live: true,
      first_ns: 0.5 * S,
      workload: 'voice',
    });
    expect(log.lines).toEqual(written);
  });

  it('a flow that ended gets its final record at once, and no more', () => {
    written.length = 0;
    log.take([snap(105 * S, [record(2, 3, false)])]);
    log.finish([]);
    expect(written.map((l) => l.ev)).toEqual(['open', 'sample', 'flow']);
    expect(written[2]).toMatchObject({ ev: 'flow', id: 2, live: false });
  });
});

describe('captureConfig', () => {
  const call = workload({ name: 'call', protocol: 'udp-voice', port: 3478, address: '198.19.1.1' });
  it('nothing unless the scenario or --pcap asks', () => {
    expect(captureConfig({ capture: null, workloads: [call] }, false, '/r')).toBeUndefined();
    expect(captureConfig({ capture: null, workloads: [call] }, true, '/r')).toMatchObject({
      path: '/r/capture.pcapng',
      snaplen: 2048,
      fileBytes: 100e6,
      files: 5,
      classes: [],
      endpoints: [],
    });
  });

  it('a workload filter becomes its endpoints', () => {
    const c = captureConfig(
      {
        capture: {
          snaplen_bytes: 128,
          file_bytes: 1e6,
          files: 2,
          classes: ['x'],
          workloads: ['call'],
        },
        workloads: [call],
      },
      false,
      '/r',
    );
    expect(c).toMatchObject({ snaplen: 128, classes: ['x'] });
    expect(c!.endpoints).toEqual([{ address: '198.19.1.1', proto: 'udp', ports: [3478, 3478] }]);
  });
});
