import type { CommandModule } from 'yargs';
import { writeFileReplacing } from '../../files/write.js';
import { ciTargets, writeCiOutputs } from '../../report/ci-outputs.js';
import { summaryCsv } from '../../report/csv.js';
import { writeReport } from '../../report/report.js';
import { checkOutputFile } from '../../run/out-path.js';
import type { CommandContext } from '../context.js';

interface ReportArgs {
  run_dir: string;
  csv?: string;
  junit?: string;
  'summary-md'?: string;
}

export function reportCommand(ctx: CommandContext): CommandModule<object, ReportArgs> {
  return {
    command: 'report <run_dir>',
    describe: "Re-render a run's summary.json and report.html from its files",
    builder: (y) =>
      y
        .positional('run_dir', {
          type: 'string',
          demandOption: true,
          describe: 'A run directory (what `qoslab run` wrote)',
        })
        .option('csv', {
          type: 'string',
          describe: 'Also export the summary as CSV: to FILE, or to stdout without one',
        })
        .option('junit', {
          type: 'string',
          describe: 'Also write the expectations as JUnit XML to FILE',
        })
        .option('summary-md', {
          type: 'string',
          describe:
            'Also write a Markdown summary to FILE; without FILE, append to $GITHUB_STEP_SUMMARY',
        })
        .example('$0 report results/20250101T120000Z-messengers', 'rewrite report.html')
        .example(
          '$0 report results/... --csv summary.csv',
          'one row per workload × phase × direction',
        ),
    handler: (args) => {
      // Checked before anything is written, so a bad path costs nothing.
      const csvPath =
        args.csv === undefined || args.csv === '' || args.csv === '-'
          ? undefined
          : checkOutputFile(args.csv, '--csv');
      const targets = ciTargets({ junit: args.junit, summaryMd: args['summary-md'] });
      const r = writeReport(args.run_dir);
      const written = writeCiOutputs(r.summary, r.dir, targets);
      // With --csv to stdout, stdout carries only the CSV.
      const notes = args.csv === '' || args.csv === '-' ? ctx.err : ctx.out;
      for (const path of written) notes.write(`wrote ${path}\n`);
      if (args.csv === undefined) {
        ctx.out.write(`report: ${r.html}\n`);
        return;
      }
      const csv = summaryCsv(r.summary);
      if (args.csv === '' || args.csv === '-') {
        ctx.out.write(csv);
        ctx.err.write(`report: ${r.html}\n`);
      } else {
        writeFileReplacing(csvPath!, csv);
        ctx.out.write(`report: ${r.html}\ncsv: ${args.csv}\n`);
      }
    },
  };
}
