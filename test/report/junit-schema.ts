/** The JUnit XML schema check shared by the run, sweep and merge tests. */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export type Node = Record<string, unknown>;
export const list = (v: unknown): Node[] =>
  (v === undefined ? [] : Array.isArray(v) ? v : [v]) as Node[];

/**
 * The rules of the common (Apache Ant) JUnit XML schema that CI systems read, checked on
 * the parsed document: element order and multiplicity, required attributes and their
 * types. Returns every violation.
 */
export function junitSchemaViolations(xml: string): string[] {
  const wellFormed = XMLValidator.validate(xml);
  if (wellFormed !== true) return [`not well-formed: ${JSON.stringify(wellFormed.err)}`];
  const doc = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    preserveOrder: true,
    parseAttributeValue: false,
    trimValues: false,
  }).parse(xml) as Node[];
  const problems: string[] = [];
  const tagOf = (n: Node) => Object.keys(n).find((k) => k !== ':@' && k !== '#text');
  const children = (n: Node) => list(n[tagOf(n)!]).filter((c) => tagOf(c) !== undefined);
  const attr = (n: Node) => (n[':@'] ?? {}) as Record<string, string>;
  const isInt = (v: string | undefined) => v !== undefined && /^-?\d+$/.test(v);
  const isDecimal = (v: string | undefined) => v !== undefined && /^-?\d+(\.\d+)?$/.test(v);
  const roots = doc.filter((n) => tagOf(n) !== undefined && tagOf(n) !== '?xml');
  if (roots.length !== 1 || tagOf(roots[0]!) !== 'testsuites') return ['root is not <testsuites>'];
  children(roots[0]!).forEach((suite, i) => {
    if (tagOf(suite) !== 'testsuite') problems.push(`testsuites has <${tagOf(suite)}>`);
    const a = attr(suite);
    for (const k of ['@package', '@name', '@hostname'])
      if (!a[k]) problems.push(`testsuite ${k} missing`);
    if (a['@id'] !== String(i)) problems.push(`testsuite @id ${a['@id']} != ${i}`);
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/.test(a['@timestamp'] ?? ''))
      problems.push(`testsuite @timestamp '${a['@timestamp']}' is not ISO 8601 without zone`);
    for (const k of ['@tests', '@failures', '@errors'])
      if (!isInt(a[k])) problems.push(`testsuite ${k} not an int`);
    if (a['@skipped'] !== undefined && !isInt(a['@skipped'])) problems.push('@skipped not an int');
    if (!isDecimal(a['@time'])) problems.push('testsuite @time not a decimal');
    const tags = children(suite).map(tagOf);
    const expected = /^properties(,testcase)*,system-out,system-err$/;
    if (!expected.test(tags.join(','))) problems.push(`testsuite children ${tags.join(',')}`);
    for (const p of children(children(suite)[0]!)) {
      if (tagOf(p) !== 'property' || !attr(p)['@name'] || attr(p)['@value'] === undefined)
        problems.push('bad <property>');
    }
    const cases = children(suite).filter((c) => tagOf(c) === 'testcase');
    if (Number(a['@tests']) !== cases.length) problems.push('@tests != number of testcases');
    const outcome = (tag: string) => cases.filter((c) => children(c).some((x) => tagOf(x) === tag));
    if (Number(a['@failures']) !== outcome('failure').length) problems.push('@failures wrong');
    if (Number(a['@errors']) !== outcome('error').length) problems.push('@errors wrong');
    if (Number(a['@skipped'] ?? 0) !== outcome('skipped').length) problems.push('@skipped wrong');
    for (const c of cases) {
      const ca = attr(c);
      if (!ca['@name'] || !ca['@classname']) problems.push('testcase without name or classname');
      if (!isDecimal(ca['@time'])) problems.push('testcase @time not a decimal');
      const inner = children(c);
      if (inner.length > 1) problems.push(`testcase '${ca['@name']}' has ${inner.length} results`);
      for (const x of inner) {
        const t = tagOf(x)!;
        if (!['skipped', 'failure', 'error'].includes(t)) problems.push(`testcase has <${t}>`);
        if ((t === 'failure' || t === 'error') && !attr(x)['@type'])
          problems.push(`<${t}> without type`);
      }
    }
  });
  return problems;
}
