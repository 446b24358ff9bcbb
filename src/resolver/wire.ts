/**
 * One DNS message in, one out, whatever carried it (UDP, TCP, TLS, HTTPS): decoded and
 * encoded by dns-packet, answered from the zone (./zone.ts). HTTPS records (type 65,
 * which dns-packet carries as raw rdata) get their bytes from ./https-record.ts.
 */
import packet from 'dns-packet';
import type { EchKeys } from './https-record.js';
import { httpsRdata } from './https-record.js';
import type { QueryType, Rcode, Zone, ZoneAnswer } from './zone.js';

const RCODES: Record<Rcode, number> = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  REFUSED: 5,
};
const HTTPS_TYPE = 'UNKNOWN_65';

/** A question as the log shows it, and what was answered. */
export interface Exchange {
  name: string;
  type: QueryType;
  answer: ZoneAnswer;
  /** The reply's bytes; null: none is sent (a `timeout` rule, or a query that is not DNS). */
  reply: Buffer | null;
}

/** dns-packet names unknown types `UNKNOWN_<n>`; HTTPS is 65. */
function typeName(t: string): QueryType {
  return t === HTTPS_TYPE ? 'HTTPS' : t;
}

/**
 * Answer one query. `ech` holds the run's ECH keys by public name. Bytes that are not a
 * DNS query get no reply; a query without a question gets FORMERR.
 */
export function exchange(
  query: Buffer,
  zone: Zone,
  ech: Map<string, EchKeys>,
  ttl: number,
  transport?: string,
): Exchange {
  let q: packet.DecodedPacket;
  try {
    q = packet.decode(query);
  } catch {
    return noReply('', 'invalid');
  }
  if (q.type !== 'query') return noReply('', 'not a query');
  const question = q.questions?.[0];
  const rd = q.flag_rd ? packet.RECURSION_DESIRED : 0;
  if (question === undefined) {
    const reply = packet.encode({
      type: 'response',
      id: q.id,
      flags: rd | packet.RECURSION_AVAILABLE | RCODES.FORMERR,
      questions: [],
      answers: [],
    });
    return { name: '', type: '', answer: formErr(), reply };
  }
  const type = typeName(question.type as string);
  const answer = zone.answer(question.name, type, transport);
  if (answer.rcode === 'none') return { name: question.name, type, answer, reply: null };
  const answers: packet.Answer[] = answer.addresses.map(
    (data) => ({ type: type as 'A', name: question.name, ttl, data }) as packet.Answer,
  );
  if (answer.https !== null) {
    const keys =
      answer.https.ech_public_name === null ? undefined : ech.get(answer.https.ech_public_name);
    answers.push({
      type: HTTPS_TYPE,
      name: question.name,
      ttl,
      data: httpsRdata({ alpn: answer.https.alpn, ech: keys?.configList ?? null }),
    } as unknown as packet.Answer);
  }
  const reply = packet.encode({
    type: 'response',
    id: q.id,
    flags: rd | packet.RECURSION_AVAILABLE | RCODES[answer.rcode],
    questions: [question],
    answers,
  });
  return { name: question.name, type, answer, reply };
}

function formErr(): ZoneAnswer {
  return { rcode: 'FORMERR', addresses: [], https: null, rule: null, delayNs: 0 };
}

function noReply(name: string, type: string): Exchange {
  return {
    name,
    type,
    answer: { rcode: 'none', addresses: [], https: null, rule: null, delayNs: 0 },
    reply: null,
  };
}
