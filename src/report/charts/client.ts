/**
 * The renderer that runs in the reader's browser. The page inlines this function's source
 * (`renderCharts.toString()`) next to uPlot's, so it must stay self-contained: no
 * imports used at runtime, no helpers outside its body. It is TypeScript so the compiler
 * checks it against the chart spec and uPlot's types.
 */
import type uPlot from 'uplot';
import type { ChartData } from './spec.js';

export function renderCharts(U: typeof uPlot, data: ChartData, doc: Document): void {
  const palette = [
    '#1f77b4',
    '#d62728',
    '#2ca02c',
    '#ff7f0e',
    '#9467bd',
    '#8c564b',
    '#e377c2',
    '#17becf',
    '#7f7f7f',
    '#bcbd22',
  ];
  const bandFill = ['rgba(31,119,180,0.07)', 'rgba(255,127,14,0.08)'];
  const plots: uPlot[] = [];
  // Log axes span decades: 10,000,000 reads better as 10M.
  const si = (_u: uPlot, ticks: number[]) =>
    // uPlot passes null for the ticks it filtered out on log axes.
    ticks.map((v: number | null) => {
      if (v === null) return '';
      const a = Math.abs(v);
      if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
      if (a >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
      return `${+v.toPrecision(3)}`;
    });

  // Phases as alternating bands with their names, behind the data of every time chart.
  const drawBands = (u: uPlot) => {
    const ctx = u.ctx;
    const { left, top, width, height } = u.bbox;
    const px = devicePixelRatio || 1;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    data.phases.forEach((p, i) => {
      const x0 = Math.max(left, u.valToPos(p.start, 'x', true));
      const x1 = Math.min(left + width, u.valToPos(p.end, 'x', true));
      if (x1 <= x0) return;
      ctx.fillStyle = bandFill[i % 2]!;
      ctx.fillRect(x0, top, x1 - x0, height);
      ctx.fillStyle = 'rgba(60,60,60,0.75)';
      ctx.font = `${11 * px}px system-ui, sans-serif`;
      ctx.textBaseline = 'top';
      ctx.fillText(p.name, x0 + 4 * px, top + 3 * px);
    });
    ctx.restore();
  };

  for (const spec of data.charts) {
    const el = doc.getElementById(spec.id);
    if (el === null) continue;
    const points = spec.series.reduce((n, s) => n + s.values.filter((v) => v !== null).length, 0);
    el.dataset.points = String(points);
    const opts: uPlot.Options = {
      title: spec.title,
      width: Math.max(320, el.clientWidth),
      height: 260,
      scales: {
        x: {
          time: false,
          distr: spec.xLog ? 3 : 1,
          log: 10,
          ...(spec.xRange === null ? {} : { range: spec.xRange }),
        },
        y: {
          distr: spec.yLog ? 3 : 1,
          log: 10,
          ...(spec.yRange === null ? {} : { range: spec.yRange }),
        },
      },
      axes: [
        { label: spec.xLabel, ...(spec.xLog ? { values: si } : {}) },
        { label: spec.yLabel, size: 60, ...(spec.yLog ? { values: si } : {}) },
      ],
      legend: { live: true },
      series: [
        { label: spec.xLabel },
        ...spec.series.map((s, i): uPlot.Series => {
          const colour = palette[i % palette.length]!;
          return {
            label: s.label,
            stroke: colour,
            width: s.style === 'points' ? 0 : 1.5,
            spanGaps: s.style !== 'points',
            ...(s.style === 'points'
              ? { paths: () => null, points: { show: true, size: 4, stroke: colour, fill: colour } }
              : { points: { show: false } }),
            ...(s.style === 'step' ? { paths: U.paths.stepped!({ align: 1 }) } : {}),
          };
        }),
      ],
      hooks: spec.xTime ? { drawClear: [drawBands] } : {},
    };
    const aligned = [spec.x, ...spec.series.map((s) => s.values)] as uPlot.AlignedData;
    plots.push(new U(opts, aligned, el));
    if (points === 0) el.insertAdjacentHTML('beforeend', '<p class="note">no data</p>');
  }

  // Charts follow the page width.
  addEventListener('resize', () => {
    for (const u of plots) {
      const w = u.root.parentElement?.clientWidth ?? 0;
      if (w > 0) u.setSize({ width: Math.max(320, w), height: 260 });
    }
  });
}
