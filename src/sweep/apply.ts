/**
 * A sweep cell's scenario: the original YAML with the cell's settings written into it,
 * then checked and compiled exactly as a file would be. The run records this text as its
 * scenario.yaml, so every run directory says what it ran.
 */
import { isMap, isSeq, parseDocument } from 'yaml';
import { UsageError } from '../errors.js';
import type { LoadedScenario } from '../scenario/library.js';
import { prepareScenario } from '../scenario/prepare.js';
import { yamlValue, type Axis } from './matrix.js';

/** The parent of `path` must exist: a typo must not silently add a new key. */
function checkPathExists(doc: ReturnType<typeof parseDocument>, axis: Axis): void {
  for (let i = 0; i < axis.path.length - 1; i++) {
    const node = doc.getIn(axis.path.slice(0, i + 1), true);
    if (!isMap(node) && !isSeq(node)) {
      const at = axis.path
        .slice(0, i + 1)
        .map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`))
        .join('')
        .slice(1);
      throw new UsageError(`--set ${axis.key}: the scenario has no ${at} to set a value in`);
    }
  }
}

export function applySettings(
  base: LoadedScenario,
  axes: Axis[],
  params: Record<string, string>,
): LoadedScenario {
  const doc = parseDocument(base.text, { version: '1.2' });
  for (const axis of axes) {
    const value = params[axis.key];
    if (value === undefined) continue;
    checkPathExists(doc, axis);
    doc.setIn(axis.path, yamlValue(value));
  }
  const text = Object.keys(params).length === 0 ? base.text : doc.toString();
  const settings = Object.entries(params)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const display = `${base.resolved.fromLibrary ? `scenarios/${base.resolved.name}.yaml` : base.resolved.path}${settings ? ` with ${settings}` : ''}`;
  const prepared = prepareScenario(text, display, {
    path: base.resolved.path,
    name: base.resolved.name,
    allow: base.allow,
  });
  return { ...base, ...prepared, text };
}
