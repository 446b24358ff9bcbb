/** The little HTML the report needs: escaping and tables. No template engine to trust. */

export function esc(text: unknown): string {
  return String(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A cell given as `{ html }` is inserted as is; anything else is escaped. */
export type Cell = string | number | { html: string };

const cell = (c: Cell) => (typeof c === 'object' ? c.html : esc(c));

/** The first `textColumns` columns are text; the rest are numbers, right-aligned. */
export function htmlTable(head: string[], rows: Cell[][], textColumns = 1): string {
  if (rows.length === 0) return '<p class="note">none</p>';
  const cls = (i: number) => (i < textColumns ? '' : ' class="num"');
  return [
    '<table>',
    `<thead><tr>${head.map((h, i) => `<th${cls(i)}>${esc(h)}</th>`).join('')}</tr></thead>`,
    '<tbody>',
    ...rows.map((r) => `<tr>${r.map((c, i) => `<td${cls(i)}>${cell(c)}</td>`).join('')}</tr>`),
    '</tbody></table>',
  ].join('\n');
}

/** JSON inside a <script> element: `<` escaped so no string in it can close the element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

/** Inlined script source: `</script` in it would end the element early. */
export function scriptText(js: string): string {
  return js.replace(/<\/script/gi, '<\\/script');
}
