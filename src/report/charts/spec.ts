/**
 * What the page draws: plain JSON built when the report is made, embedded in the page and
 * handed to the browser-side renderer (client.ts). Every series of a chart shares the
 * chart's x values (uPlot's aligned-data model); a missing point is null.
 */

export interface SeriesSpec {
  label: string;
  values: (number | null)[];
  /** points: a scatter (one dot per message); step: a value held until the next x. */
  style: 'points' | 'line' | 'step';
}

export interface ChartSpec {
  /** DOM id of the chart's container; the page has one per chart. */
  id: string;
  title: string;
  x: number[];
  xLabel: string;
  /** x is seconds since the run's start: the phases are drawn as bands behind the data. */
  xTime: boolean;
  xLog: boolean;
  /** Fixed x range (time charts: the whole run, so they line up); null: fit the data. */
  xRange: [number, number] | null;
  yLabel: string;
  yLog: boolean;
  /** Fixed y range (e.g. 0..100 % or MOS 1..5); null: fit the data. */
  yRange: [number, number] | null;
  series: SeriesSpec[];
}

export interface PhaseBand {
  name: string;
  /** Seconds since the run's start. */
  start: number;
  end: number;
}

export interface ChartData {
  phases: PhaseBand[];
  charts: ChartSpec[];
}
