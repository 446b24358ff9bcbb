/**
 * docs/app-profiles.md is generated from the profiles (every value with its source), so
 * the page cannot drift from the code: refresh it with
 * `UPDATE_GOLDEN=1 npx vitest run test/scenario/app-profiles-doc.test.ts`.
 */
import { expect, it } from 'vitest';
import { APPS } from '../../src/scenario/apps/index.js';
import { profileLeaves, provenanceOf } from '../../src/scenario/apps/profile.js';
import { golden, here } from './helpers.js';

const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

function page(): string {
  const out = [
    '# App profiles',
    '',
    'What `app: <name>` gives a workload (docs/scenario-format.md, workloads): each value of',
    'each profile, and where it comes from — a public source and what it says, or why the',
    'value was assumed. A workload overrides any of them by writing the key. Generated from',
    '`src/scenario/apps/` (a test keeps this page in step).',
    '',
  ];
  for (const [name, p] of Object.entries(APPS)) {
    out.push(
      `## ${name}`,
      '',
      `${p.description}.`,
      '',
      '| value | is | source |',
      '| --- | --- | --- |',
    );
    for (const [path, value] of profileLeaves(p)) {
      const src = provenanceOf(p, path)!;
      const from = 'cite' in src ? `${src.cite}: ${src.says}` : `assumed: ${src.assumed}`;
      out.push(`| \`${path}\` | \`${cell(String(value))}\` | ${cell(from)} |`);
    }
    out.push('');
  }
  return out.join('\n');
}

it('docs/app-profiles.md lists every profile value with its source', async () => {
  const path = here('../../docs/app-profiles.md');
  const { format } = await import('prettier');
  const text = await format(page(), { parser: 'markdown', proseWrap: 'preserve' });
  expect(await golden(path, text)).toBe(text);
});
