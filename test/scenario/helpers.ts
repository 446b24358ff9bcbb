import { readFile, writeFile } from 'node:fs/promises';
import { format } from 'prettier';

/** Refresh golden files with `UPDATE_GOLDEN=1 npx vitest run test/scenario`. */
export const UPDATE_GOLDEN = process.env.UPDATE_GOLDEN === '1';

export const here = (path: string) => new URL(path, import.meta.url).pathname;

/** Compare with a golden file, or rewrite it (formatted as prettier would) when updating. */
export async function golden(path: string, actual: string, parser?: 'json'): Promise<string> {
  const text = parser
    ? await format(actual, { parser, singleQuote: true, printWidth: 100 })
    : actual;
  if (UPDATE_GOLDEN) await writeFile(path, text);
  return readFile(path, 'utf8').catch(() => `(no golden file ${path}: run with UPDATE_GOLDEN=1)`);
}
