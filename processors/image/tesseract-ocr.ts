import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWorker, type Worker } from 'tesseract.js';
import { HubError } from '../../core/errors.ts';

const require = createRequire(import.meta.url);

/** Folder of the packaged English traineddata (`@tesseract.js-data/eng`); no download needed. */
export function packagedEnglishData(): { langPath: string; gzip: boolean } {
  const data = require('@tesseract.js-data/eng') as { langPath: string; gzip: boolean };
  return { langPath: data.langPath, gzip: data.gzip };
}

export interface OcrResult {
  text: string;
  confidence: number;
}

interface OcrLine {
  text: string;
  bbox: { y0: number; y1: number };
}
interface OcrParagraph {
  lines: OcrLine[];
}
interface OcrBlock {
  paragraphs: OcrParagraph[];
}

/**
 * OCR with tesseract.js on the packaged English data. One worker is created on first use and
 * reused (loading the model costs seconds); jobs run one at a time on it. The language data
 * is read from node_modules and its cache goes to a private temp folder removed on close, so
 * OCR never touches the network.
 */
export function createTesseractOcr() {
  let worker: Promise<Worker> | undefined;
  let cacheDir: string | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  const getWorker = () => {
    worker ??= (async () => {
      cacheDir = await mkdtemp(join(tmpdir(), 'tributary-tesseract-'));
      const data = packagedEnglishData();
      return createWorker('eng', 1, { langPath: data.langPath, gzip: data.gzip, cachePath: cacheDir });
    })();
    return worker;
  };

  const recognizeNow = async (image: Buffer): Promise<OcrResult> => {
    const w = await getWorker();
    const { data } = await w.recognize(image, {}, { text: true, blocks: true });
    const blocks = (data.blocks ?? []) as OcrBlock[];
    const text = layoutText(blocks) || data.text.trim();
    return { text, confidence: data.confidence / 100 };
  };

  return {
    /** Reads the text of an image, lines and paragraph breaks kept. */
    recognize(image: Buffer): Promise<OcrResult> {
      const job = queue.then(() => recognizeNow(image));
      queue = job.catch(() => undefined);
      return job.catch((err: unknown) => {
        throw err instanceof HubError
          ? err
          : new HubError('OCR_FAILED', `tesseract.js could not read the image: ${String(err)}`, {
              cause: err,
            });
      });
    },
    async close(): Promise<void> {
      const current = worker;
      worker = undefined;
      if (current) await (await current.catch(() => undefined))?.terminate();
      if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
      cacheDir = undefined;
    },
  };
}

/**
 * Joins recognised lines keeping the layout: a newline between lines, a blank line between
 * paragraphs. Tesseract often merges paragraphs, so a vertical gap taller than the median line
 * height also counts as a paragraph break.
 */
export function layoutText(blocks: OcrBlock[]): string {
  const lines: { text: string; top: number; bottom: number; startsParagraph: boolean }[] = [];
  for (const block of blocks) {
    for (const paragraph of block.paragraphs) {
      paragraph.lines.forEach((line, i) => {
        const text = line.text.trim();
        if (text) lines.push({ text, top: line.bbox.y0, bottom: line.bbox.y1, startsParagraph: i === 0 });
      });
    }
  }
  const heights = lines.map((l) => l.bottom - l.top).sort((a, b) => a - b);
  const median = heights[Math.floor(heights.length / 2)] ?? 0;
  let out = '';
  lines.forEach((line, i) => {
    const previous = lines[i - 1];
    if (previous) {
      const gap = line.top - previous.bottom;
      out += line.startsParagraph || gap > median ? '\n\n' : '\n';
    }
    out += line.text;
  });
  return out;
}

export type TesseractOcr = ReturnType<typeof createTesseractOcr>;
