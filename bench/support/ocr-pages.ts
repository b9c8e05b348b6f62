import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import sharp from 'sharp';
import { findExecutable } from '../../kit/redis.ts';
import { packagedEnglishData } from '../../processors/image/tesseract-ocr.ts';

const execFileAsync = promisify(execFile);

/**
 * Test pages for the OCR benchmark, the same on every run: business text (an invoice-like
 * letter) drawn by sharp from SVG in DejaVu Sans, black on white, 16 lines of 28 px that fit the
 * width. No randomness: page n always has the same words.
 */

const WORDS = [
  'invoice',
  'delivery',
  'customer',
  'account',
  'quantity',
  'steel',
  'bolts',
  'payment',
  'within',
  'thirty',
  'days',
  'order',
  'number',
  'warehouse',
  'shipped',
  'Hamburg',
  'Rotterdam',
  'contract',
  'price',
  'discount',
  'freight',
  'total',
  'amount',
  'due',
  'reference',
  'please',
  'confirm',
  'receipt',
];

export interface OcrPage {
  png: Buffer;
  /** The words drawn, in reading order. */
  words: string[];
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The lines of page `n` (deterministic). */
export function pageLines(n: number, lines = 16): string[] {
  return Array.from({ length: lines }, (_, i) => {
    const count = 4 + ((n + i) % 3);
    const words = Array.from({ length: count }, (_, j) => WORDS[(n * 7 + i * 5 + j * 3) % WORDS.length]!);
    return `${words.join(' ')} ${1000 + n * 100 + i}`;
  });
}

/** Renders page `n` as a 1000 x 800 PNG. */
export async function renderPage(n: number): Promise<OcrPage> {
  const lines = pageLines(n);
  const text = lines.map((line, i) => `<text x="40" y="${60 + i * 44}">${escapeXml(line)}</text>`).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="800"><rect width="100%" height="100%" fill="#fff"/><g font-family="DejaVu Sans" font-size="28" fill="#111">${text}</g></svg>`;
  const png = await sharp(Buffer.from(svg)).png().toBuffer();
  return { png, words: lines.flatMap((l) => l.split(/\s+/)) };
}

/** Share of the drawn words found in the recognised text (each found word used once). */
export function wordRecall(truth: string[], recognised: string): number {
  const seen = new Map<string, number>();
  for (const w of recognised.split(/\s+/).filter(Boolean)) seen.set(w, (seen.get(w) ?? 0) + 1);
  let found = 0;
  for (const w of truth) {
    const left = seen.get(w) ?? 0;
    if (left > 0) {
      found += 1;
      seen.set(w, left - 1);
    }
  }
  return truth.length === 0 ? 1 : found / truth.length;
}

/** The tesseract CLI, or undefined when it is not installed (Debian package tesseract-ocr). */
export function tesseractCli(): string | undefined {
  return findExecutable('tesseract');
}

/** `tesseract --version`'s first line. */
export async function tesseractVersion(cli: string): Promise<string> {
  const { stdout, stderr } = await execFileAsync(cli, ['--version']);
  return `${stdout}${stderr}`.split('\n')[0]?.trim() ?? 'tesseract';
}

/**
 * Writes the English data tesseract.js reads (gzip-packed in @tesseract.js-data/eng) unpacked
 * into `dir`, so the CLI runs the very same model; returns the tessdata folder.
 */
export async function sameModelTessdata(dir: string): Promise<string> {
  const data = packagedEnglishData();
  const raw = await readFile(join(data.langPath, data.gzip ? 'eng.traineddata.gz' : 'eng.traineddata'));
  await writeFile(join(dir, 'eng.traineddata'), data.gzip ? gunzipSync(raw) : raw);
  return dir;
}

/**
 * Runs the CLI once on `images` (one path, or a text file listing several, one per line) with
 * the LSTM engine (--oem 1, as tesseract.js's worker) on one thread; returns what it printed.
 */
export async function runTesseractCli(cli: string, tessdata: string, images: string): Promise<string> {
  const { stdout } = await execFileAsync(
    cli,
    [images, 'stdout', '--tessdata-dir', tessdata, '-l', 'eng', '--oem', '1'],
    {
      env: { ...process.env, OMP_THREAD_LIMIT: '1' },
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return stdout;
}
