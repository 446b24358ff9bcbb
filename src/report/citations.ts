/**
 * The report's sources section: what the scenario cites (each publication with its link
 * and the quotes it gives) and, number by number, whether the value is cited, assumed
 * or unmarked — read from scenario.yaml, since compiled.json carries no citations.
 */
import { parse as parseYaml } from 'yaml';
import { provenanceOf, countProvenance, type NumberMark } from '../scenario/provenance.js';
import { esc, htmlTable } from './markup.js';

type Dict = Record<string, unknown>;
const isDict = (v: unknown): v is Dict => v !== null && typeof v === 'object' && !Array.isArray(v);

function parsed(text: string): Dict | null {
  try {
    const doc = parseYaml(text) as unknown;
    return isDict(doc) ? doc : null;
  } catch {
    return null;
  }
}

/** Only http(s) links become anchors; anything else is shown as text. */
function link(url: unknown): string {
  if (typeof url !== 'string' || !/^https?:\/\//.test(url)) return '';
  return ` <a href="${esc(url)}">${esc(url)}</a>`;
}

function sourceItem(src: unknown): string {
  if (typeof src === 'string') return `<li>${esc(src)}</li>`;
  if (!isDict(src)) return '';
  const params = src.parameters;
  let detail = '';
  if (typeof params === 'string') detail = `<br><span class="note">${esc(params)}</span>`;
  else if (isDict(params)) {
    detail = `<ul>${Object.entries(params)
      .map(([path, quote]) => `<li><code>${esc(path)}</code>: ${esc(String(quote))}</li>`)
      .join('')}</ul>`;
  }
  return `<li>${esc(String(src.cite ?? ''))}${link(src.url)}${detail}</li>`;
}

const STATUS_TEXT: Record<NumberMark['status'], string> = {
  cited: 'cited',
  assumed: 'assumed',
  unmarked: 'unmarked',
};

export function citationsSection(scenarioText: string): string {
  const doc = parsed(scenarioText);
  if (doc === null) {
    return '<section id="sources"><h2>Sources</h2><p class="note">no scenario.yaml in the run directory</p></section>';
  }
  const sources = Array.isArray(doc.sources) ? doc.sources : [];
  const marks = provenanceOf(doc);
  const c = countProvenance(marks);
  const numbers = htmlTable(
    ['value', 'number', 'status', 'from'],
    marks.map((m) => [
      { html: `<code>${esc(m.path)}</code>` },
      m.value,
      STATUS_TEXT[m.status],
      m.status === 'cited'
        ? `${m.cite ?? ''}: ${m.text ?? ''}`
        : m.status === 'assumed'
          ? (m.text ?? '')
          : 'no source or assumption given',
    ]),
    4,
  );
  return `
<section id="sources">
<h2>Sources</h2>
${sources.length > 0 ? `<ol>${sources.map(sourceItem).join('')}</ol>` : '<p class="note">the scenario cites no sources</p>'}
<h3>Numbers: ${c.cited} cited, ${c.assumed} assumed, ${c.unmarked} unmarked</h3>
${marks.length > 0 ? numbers : '<p class="note">no numbers</p>'}
</section>`;
}
