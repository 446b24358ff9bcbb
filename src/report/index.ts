/** Reports of finished runs: HTML, comparison, CSV. Reads results only. */
export { writeReport, type ReportResult } from './report.js';
export { loadRun, checkRunDir, resummarize, type LoadedRun } from './load.js';
export { compareSummaries, compareTable, type Comparison, type CompareRow } from './compare.js';
export { summaryCsv, CSV_COLUMNS } from './csv.js';
export { renderHtml } from './html.js';
