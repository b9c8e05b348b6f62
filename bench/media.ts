import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBrowserPool } from '../processors/chart/browser-pool.ts';
import type { ChartSpec } from '../processors/chart/chart-spec.ts';
import { renderChart } from '../processors/chart/render-chart.ts';
import { createOfflineImageProvider } from '../processors/image/offline-provider.ts';
import { prepareImage } from '../processors/image/preprocess.ts';
import type { PreparedImage } from '../processors/image/types.ts';
import { concurrentCalls } from './support/callers.ts';
import {
  renderPage,
  runTesseractCli,
  sameModelTessdata,
  tesseractCli,
  tesseractVersion,
  wordRecall,
} from './support/ocr-pages.ts';
import { type BenchResult, type Comparison, type Figure, isEntryPoint, runAsMain } from './support/report.ts';
import { smokeRun } from './support/stats.ts';

/**
 * Media processors without Kafka: charts/s of the chart renderer (Chart.js in headless Chromium
 * through puppeteer-core) with its warm browser pool against a cold start per chart, and OCR
 * pages/s of the offline image provider (tesseract.js) against the tesseract CLI on the same
 * images and the same model.
 */

/** A bar chart of 12 months and two series; values depend on n only. */
function chartSpec(n: number): ChartSpec {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const series = (k: number) => months.map((_, i) => ((n * 31 + i * 17 + k * 7) % 97) + 3);
  return {
    chartType: 'bar',
    title: `Orders by month, region ${n}`,
    width: 800,
    height: 600,
    labels: months,
    datasets: [
      { label: 'North', values: series(1) },
      { label: 'South', values: series(2) },
    ],
  };
}

interface ChartFigures {
  figures: Figure[];
  comparisons: Comparison[];
  setup: Record<string, string>;
}

async function benchCharts(smoke: boolean): Promise<ChartFigures> {
  const warmMs = smoke ? 1_000 : 10_000;
  const coldCharts = smoke ? 1 : 6;
  const pool = createBrowserPool();
  let warm: Awaited<ReturnType<typeof concurrentCalls>>;
  let firstMs: number;
  try {
    const t = performance.now();
    await renderChart(chartSpec(0), pool);
    firstMs = performance.now() - t;
    for (let n = 1; n <= 4; n += 1) await renderChart(chartSpec(n), pool);
    const pages = pool.status().maxPages;
    warm = await concurrentCalls(pages, warmMs, (caller, n) =>
      renderChart(chartSpec(caller * 1000 + n), pool),
    );
  } finally {
    await pool.close();
  }
  if (warm.errors > 0) throw new Error(`chart renders failed: ${warm.firstError}`);
  // Reference: what a render costs without the pool, a browser launched for the chart and closed.
  const coldStart = performance.now();
  const coldTimes: number[] = [];
  for (let n = 0; n < coldCharts; n += 1) {
    const t = performance.now();
    const once = createBrowserPool();
    try {
      await renderChart(chartSpec(n), once);
    } finally {
      await once.close();
    }
    coldTimes.push(performance.now() - t);
  }
  const coldPerSecond = coldCharts / ((performance.now() - coldStart) / 1000);
  return {
    setup: {
      charts:
        'bar chart 800x600, 12 labels, 2 datasets (values vary per chart), Chart.js from node_modules, PNG out (processors/chart renderChart)',
      'warm pool': `createBrowserPool() defaults (one Chromium, ${2} pages), ${warm.callers} concurrent renders for ${warmMs / 1000} s after 5 warm-up charts`,
      'cold reference': `a new pool per chart (Chromium launched, page and Chart.js loaded, chart, browser closed), ${coldCharts} charts one after the other`,
    },
    figures: [
      { label: 'charts/s, warm pool', value: warm.callsPerSecond, unit: 'charts/s' },
      { label: 'chart latency p50, warm pool', value: warm.p50Ms, unit: 'ms' },
      { label: 'chart latency p99, warm pool', value: warm.p99Ms, unit: 'ms' },
      { label: 'first chart of the pool (browser launch included)', value: firstMs, unit: 'ms' },
      { label: 'charts/s, cold start per chart', value: coldPerSecond, unit: 'charts/s' },
      {
        label: 'chart latency, cold start (mean)',
        value: coldTimes.reduce((a, b) => a + b, 0) / coldTimes.length,
        unit: 'ms',
      },
    ],
    comparisons: [
      {
        label: 'charts/s, warm pool / cold start per chart',
        ratio: warm.callsPerSecond / coldPerSecond,
        headline: true,
      },
    ],
  };
}

async function benchOcr(smoke: boolean): Promise<ChartFigures & { notes: string[] }> {
  const pageCount = smoke ? 1 : 6;
  const dir = await mkdtemp(join(tmpdir(), 'tributary-bench-ocr-'));
  const provider = createOfflineImageProvider();
  try {
    const pages: { prepared: PreparedImage; words: string[]; file: string }[] = [];
    for (let n = 0; n < pageCount; n += 1) {
      const page = await renderPage(n);
      // The processor OCRs the normalised JPEG (prepareImage); both engines read exactly that.
      const prepared = await prepareImage(page.png);
      const file = join(dir, `page-${n}.jpg`);
      await writeFile(file, prepared.jpeg);
      pages.push({ prepared, words: page.words, file });
    }
    const t0 = performance.now();
    await provider.text(pages[0]!.prepared, {});
    const loadMs = performance.now() - t0;
    let recallSum = 0;
    const start = performance.now();
    for (const page of pages) {
      const outcome = await provider.text(page.prepared, {});
      if (outcome.status !== 'succeeded') throw new Error(`offline OCR: ${outcome.reason}`);
      recallSum += wordRecall(page.words, outcome.text ?? '');
    }
    const jsPerSecond = pageCount / ((performance.now() - start) / 1000);
    const figures: Figure[] = [
      {
        label: 'OCR pages/s, tesseract.js (offline provider, warm worker)',
        value: jsPerSecond,
        unit: 'pages/s',
      },
      { label: 'OCR first page with worker start and model load, tesseract.js', value: loadMs, unit: 'ms' },
      { label: 'words recognised, tesseract.js', value: (recallSum / pageCount) * 100, unit: '%' },
    ];
    const setup: Record<string, string> = {
      pages: `${pageCount} generated pages (1000x800, 16 lines of DejaVu Sans 28 px, invoice-like words and numbers), normalised by prepareImage (JPEG q85) as the image processor does`,
      'tesseract.js':
        'createOfflineImageProvider().text(): one warm tesseract.js worker, LSTM engine, @tesseract.js-data/eng 4.0.0, pages one after the other',
    };
    const comparisons: Comparison[] = [];
    const notes: string[] = [];
    const cli = tesseractCli();
    if (!cli) {
      notes.push(
        'reference missing: the tesseract CLI is not installed (Debian package tesseract-ocr; scripts/system-deps.sh installs it)',
      );
      setup.reference = 'missing (no tesseract on PATH)';
      return { figures, comparisons, setup, notes };
    }
    const tessdata = await sameModelTessdata(await mkdtemp(join(dir, 'tessdata-')));
    const list = join(dir, 'pages.txt');
    await writeFile(list, `${pages.map((p) => p.file).join('\n')}\n`);
    const batchStart = performance.now();
    const batchText = await runTesseractCli(cli, tessdata, list);
    const batchPerSecond = pageCount / ((performance.now() - batchStart) / 1000);
    const perPageStart = performance.now();
    let cliRecall = 0;
    for (const page of pages)
      cliRecall += wordRecall(page.words, await runTesseractCli(cli, tessdata, page.file));
    const perPagePerSecond = pageCount / ((performance.now() - perPageStart) / 1000);
    setup.reference = `${await tesseractVersion(cli)} CLI (native), same model (the tesseract.js data unpacked, --tessdata-dir), --oem 1, OMP_THREAD_LIMIT=1 (one thread, as the one worker): one process for all pages (list file), and one process per page`;
    figures.push(
      {
        label: 'OCR pages/s, tesseract CLI, one process for all pages',
        value: batchPerSecond,
        unit: 'pages/s',
      },
      { label: 'OCR pages/s, tesseract CLI, one process per page', value: perPagePerSecond, unit: 'pages/s' },
      { label: 'words recognised, tesseract CLI', value: (cliRecall / pageCount) * 100, unit: '%' },
    );
    comparisons.push(
      {
        label: 'OCR pages/s, tesseract.js / tesseract CLI (one process for all pages)',
        ratio: jsPerSecond / batchPerSecond,
        headline: true,
      },
      {
        label: 'OCR pages/s, tesseract.js / tesseract CLI (one process per page)',
        ratio: jsPerSecond / perPagePerSecond,
      },
    );
    if (
      wordRecall(
        pages.flatMap((p) => p.words),
        batchText,
      ) < 0.5
    )
      notes.push('the CLI run over the list file recognised less than half of the words');
    return { figures, comparisons, setup, notes };
  } finally {
    await provider.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs the benchmark (no Kafka needed). */
export async function benchMedia(): Promise<BenchResult> {
  const started = performance.now();
  const smoke = smokeRun();
  const charts = await benchCharts(smoke);
  const ocr = await benchOcr(smoke);
  return {
    name: 'media',
    title: 'Media: charts with a warm browser pool, offline OCR',
    setup: { chromium: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', ...charts.setup, ...ocr.setup },
    figures: [...charts.figures, ...ocr.figures],
    comparisons: [...charts.comparisons, ...ocr.comparisons],
    notes: ocr.notes,
    seconds: (performance.now() - started) / 1000,
  };
}

if (isEntryPoint(import.meta)) await runAsMain(benchMedia);
