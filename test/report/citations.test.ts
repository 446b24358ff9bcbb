import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { citationsSection } from '../../src/report/citations.js';
import { LIBRARY_DIR } from '../../src/scenario/library.js';

describe('the report sources section', () => {
  it('shows each source with its link and quotes, and every number with its status', async () => {
    const text = await readFile(`${LIBRARY_DIR}link-devtools-slow-4g.yaml`, 'utf8');
    const html = citationsSection(text);
    expect(html).toContain('GoogleChrome/lighthouse, core/config/constants.js');
    expect(html).toContain(
      '<a href="https://github.com/GoogleChrome/lighthouse/blob/7ac9485dfdaf21e794c11333b4873f62cdb5d4c5/core/config/constants.js#L13-L28">',
    );
    expect(html).toContain('<code>network.downlink.delay</code>: rttMs: 150, half each way');
    expect(html).toContain('Numbers: 6 cited, 2 assumed, 0 unmarked');
    expect(html).toMatch(
      /<code>expect\.3<\/code><\/td><td>download\.goodput &gt;= 1200kbit<\/td><td>assumed<\/td>/,
    );
  });

  it('says so when the run has no scenario.yaml, and escapes what it shows', () => {
    expect(citationsSection('')).toContain('no scenario.yaml');
    const html = citationsSection(
      'version: 1\nsources:\n  - { cite: "<script>x</script>", url: "javascript:alert(1)" }\n',
    );
    expect(html).toContain('&lt;script&gt;');
    expect(html).not.toContain('javascript:');
  });
});
