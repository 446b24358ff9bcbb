import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { writeReport } from '../../src/report/report.js';
import { withBrowser } from './browser.js';
import { OUTPUT, copyOfRun } from './helpers.js';

interface ChartCheck {
  id: string;
  points: number;
  /** Canvas pixels that are not background: something was drawn. */
  inked: number;
  /** Pixels in the series colours: the data, not only axes and bands. */
  data: number;
}

// Runs in the page: for each chart, how much of its canvas is painted, and how much in
// the first series colours (#1f77b4, #d62728).
function inspectCharts(): ChartCheck[] {
  return [...document.querySelectorAll<HTMLElement>('.chart')].map((el) => {
    const canvas = el.querySelector('canvas');
    let inked = 0;
    let data = 0;
    if (canvas) {
      const px = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 0; i < px.length; i += 4) {
        if (px[i + 3]! === 0) continue;
        inked++;
        const [r, g, b] = [px[i]!, px[i + 1]!, px[i + 2]!];
        const near = (c: number[]) =>
          Math.abs(r - c[0]!) + Math.abs(g - c[1]!) + Math.abs(b - c[2]!) < 60;
        if (near([31, 119, 180]) || near([214, 39, 40])) data++;
      }
    }
    return { id: el.id, points: Number(el.dataset.points ?? 0), inked, data };
  });
}

describe('report.html in headless Chromium', () => {
  it('draws every chart from inlined data, with no console errors and no network', async () => {
    const dir = copyOfRun();
    const { html } = writeReport(dir);
    const url = pathToFileURL(html).href;
    mkdirSync(OUTPUT, { recursive: true });
    await withBrowser(1200, async (context) => {
      const requests: string[] = [];
      const problems: string[] = [];
      context.on('request', (r) => requests.push(r.url()));
      const page = await context.newPage();
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning')
          problems.push(`${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      await page.goto(url, { waitUntil: 'load' });
      await page.waitForSelector('.chart canvas');
      const charts = await page.evaluate(inspectCharts);
      await page.screenshot({ path: join(OUTPUT, 'report.png'), fullPage: true });

      expect(problems).toEqual([]);
      expect(requests).toEqual([url]);
      // 4 workloads × (latency, CDF) + delivery + goodput + MOS + datapath rate.
      expect(charts.map((c) => c.id).sort()).toEqual(
        [
          ...[0, 1, 2, 3].flatMap((i) => [`latency-${i}`, `cdf-${i}`]),
          'delivery',
          'goodput',
          'mos',
          'datapath-rate',
        ].sort(),
      );
      for (const c of charts) {
        expect(c.points, c.id).toBeGreaterThan(0);
        expect(c.inked, c.id).toBeGreaterThan(1000);
        expect(c.data, c.id).toBeGreaterThan(20);
      }
      const text = await page.textContent('body');
      expect(text).toContain('report-basic');
      expect(text).toContain('A chat, a call and a download');
      expect(text).toMatch(/FAIL\s*ws\.latency\.p95 < 1us during later/);
    });
  });
});
