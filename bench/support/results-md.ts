import type { MachineInfo } from './machine.ts';
import { type BenchResult, formatNumber, formatRatio } from './report.ts';

/** One benchmark as bench/run.ts ran it: its result, or why it has none. */
export interface RunOutcome {
  name: string;
  result?: BenchResult;
  error?: string;
  /** 1-minute load average just before and after it ran. */
  loadBefore: number;
  loadAfter: number;
}

export interface RunSummary {
  date: Date;
  machine: MachineInfo;
  broker: string;
  outcomes: RunOutcome[];
  seconds: number;
  /** Parts of the issue with no benchmark yet, and why. */
  missing: string[];
  /** Where the time goes where a target is missed (from the profiles). */
  reading?: string[];
}

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

/** Renders bench/RESULTS.md: summary table first, then each benchmark's setup, figures and notes. */
export function renderResults(summary: RunSummary): string {
  const { machine } = summary;
  const lines: string[] = [
    '# Benchmark results',
    '',
    'Written by `npm run bench` (bench/run.ts); do not edit by hand. Each benchmark also runs alone:',
    '`node bench/<name>.ts` (KAFKA_BROKERS to use a running cluster, else a dedicated local broker).',
    'Ratios are ours divided by a reference measured in the same run on the same broker.',
    '',
    `- Date: ${summary.date.toISOString()}`,
    `- Machine: ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB memory, ${machine.platform}`,
    `- Node ${machine.node}; Java: ${machine.java}`,
    `- Broker: ${summary.broker}`,
    `- Load: the machine is shared; 1-minute load average ${machine.load1} at the start (per benchmark below). Figures taken under load are lower than on an idle machine, for ours and the references alike.`,
    `- Total run time: ${formatNumber(summary.seconds / 60)} min`,
    '',
    '## Summary',
    '',
    '| Benchmark | Ratio | Target |',
    '|---|---|---|',
  ];
  for (const o of summary.outcomes) {
    if (!o.result) {
      lines.push(`| ${o.name} | failed: ${cell(o.error ?? 'no result')} | |`);
      continue;
    }
    const marked = o.result.comparisons.filter((c) => c.headline);
    for (const c of marked.length > 0 ? marked : o.result.comparisons) {
      const target = c.target === undefined ? '' : c.ratio >= c.target ? 'met' : '**below**';
      lines.push(
        `| ${o.name}: ${cell(c.label)} | ${cell(formatRatio({ ...c, target: undefined }))} | ${c.target === undefined ? '' : `>= ${formatNumber(c.target * 100)} %: ${target}`} |`,
      );
    }
  }
  if (summary.reading && summary.reading.length > 0) {
    lines.push('', '## Reading the figures', '');
    for (const r of summary.reading) lines.push(`- ${r}`);
  }
  for (const o of summary.outcomes) {
    lines.push('', `## ${o.result?.title ?? o.name}`, '');
    if (!o.result) {
      lines.push(`Failed: ${o.error ?? 'no result'}`);
      continue;
    }
    const r = o.result;
    lines.push(
      `\`bench/${r.name}.ts\`, ${formatNumber(r.seconds)} s, load ${o.loadBefore} -> ${o.loadAfter}.`,
      '',
    );
    lines.push('Setup:', '');
    for (const [k, v] of Object.entries(r.setup)) lines.push(`- ${k}: ${v}`);
    lines.push('', '| Figure | Value |', '|---|---|');
    for (const f of r.figures) lines.push(`| ${cell(f.label)} | ${formatNumber(f.value)} ${cell(f.unit)} |`);
    if (r.comparisons.length > 0) {
      lines.push('', '| Ratio (ours / reference) | Value |', '|---|---|');
      for (const c of r.comparisons) lines.push(`| ${cell(c.label)} | ${cell(formatRatio(c))} |`);
    }
    if (r.notes.length > 0) {
      lines.push('');
      for (const n of r.notes) lines.push(`- ${n}`);
    }
  }
  if (summary.missing.length > 0) {
    lines.push('', '## Not measured yet', '');
    for (const m of summary.missing) lines.push(`- ${m}`);
  }
  return `${lines.join('\n')}\n`;
}
