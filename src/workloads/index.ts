/**
 * The workload protocols, one file each, registered in this one table. Adding a protocol
 * is one file plus one row.
 */
import type { CompiledWorkload } from '../scenario/compiled.js';
import { bulk } from './bulk.js';
import { http2Workload } from './http2.js';
import { longpoll } from './longpoll.js';
import { mqttWorkload } from './mqtt.js';
import { tcpFramed } from './tcp-framed.js';
import type { Protocol } from './types.js';
import { udpVoice } from './udp-voice.js';
import { websocket } from './websocket.js';

export const PROTOCOLS: Readonly<Record<string, Protocol>> = {
  websocket,
  http2: http2Workload,
  longpoll,
  mqtt: mqttWorkload,
  'tcp-framed': tcpFramed,
  'udp-voice': udpVoice,
  bulk,
};

export function protocolOf(w: CompiledWorkload): Protocol | undefined {
  return PROTOCOLS[w.protocol];
}

export type { Protocol, ServerGroup, AgentContext, ServerContext } from './types.js';
