import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { HubError } from '../../core/errors.ts';
import { analyzeImage } from '../../processors/image/analyze.ts';
import { createOfflineImageProvider } from '../../processors/image/offline-provider.ts';
import { prepareImage } from '../../processors/image/preprocess.ts';

/** Renders lines of text (black on white) into a PNG through an SVG. */
async function renderText(paragraphs: string[][], width = 1400): Promise<Buffer> {
  const lineHeight = 70;
  let y = 80;
  const rows: string[] = [];
  for (const paragraph of paragraphs) {
    for (const line of paragraph) {
      rows.push(`<text x="40" y="${y}" font-family="DejaVu Sans, sans-serif" font-size="48">${line}</text>`);
      y += lineHeight;
    }
    y += lineHeight;
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}"><rect width="100%" height="100%" fill="white"/>${rows.join('')}</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

describe('offline image provider', () => {
  const provider = createOfflineImageProvider();
  afterAll(() => provider.close());

  it('reads back rendered text keeping lines and paragraphs', async () => {
    const words = ['KAFKA', 'RIVER', 'BASALT', 'ORCHID', 'TUNDRA', 'MAPLE'];
    const pick = () => words.splice(Math.floor(Math.random() * words.length), 1)[0]!;
    const first = [`${pick()} STREAM 42`, `${pick()} EVENTS`];
    const second = [`${pick()} BROKER`];
    const png = await renderText([first, second]);
    const result = await analyzeImage(png, ['text'], provider);
    expect(result.text?.status).toBe('succeeded');
    const lines = result.text!.text!.split('\n');
    expect(lines).toContain(first[0]);
    expect(lines).toContain(first[1]);
    expect(lines).toContain(second[0]);
    expect(result.text!.text).toContain(`${first[1]}\n\n${second[0]}`);
    expect(result.describe).toBeNull();
  }, 60_000);

  it('runs all analyses: facts for describe, objects unsupported', async () => {
    const png = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#ff0000' } })
      .png()
      .toBuffer();
    const result = await analyzeImage(png, ['all'], provider);
    expect(result.facts).toMatchObject({ width: 300, height: 200, format: 'png' });
    expect(result.facts.dominantColours[0]).toBe('#fe0000');
    expect(result.describe?.status).toBe('succeeded');
    expect(result.describe?.text).toContain('300x200 PNG');
    expect(result.objects).toMatchObject({ status: 'unsupported', objects: [] });
    expect(result.text?.status).toBe('succeeded');
    const german = await analyzeImage(png, ['text'], provider, { language: 'de' });
    expect(german.text).toMatchObject({ status: 'unsupported', text: null });
  }, 60_000);

  it('fits large images inside 1024x1024, rotates by EXIF and strips metadata', async () => {
    const big = await sharp({ create: { width: 3000, height: 1000, channels: 3, background: '#0000ff' } })
      .jpeg()
      .withMetadata({ orientation: 6, exif: { IFD0: { Make: 'TestCam', Model: 'T1' } } })
      .toBuffer();
    const prepared = await prepareImage(big);
    expect([prepared.width, prepared.height]).toEqual([341, 1024]);
    expect(prepared.facts.orientation).toBe(6);
    expect(prepared.facts.exif.Make).toBe('TestCam');
    const meta = await sharp(prepared.jpeg).metadata();
    expect(meta.format).toBe('jpeg');
    expect(meta.exif).toBeUndefined();
    const small = await sharp({ create: { width: 50, height: 40, channels: 3, background: '#00ff00' } })
      .png()
      .toBuffer();
    expect((await prepareImage(small)).width).toBe(50);
  });

  it('gives a clear error for a corrupt image', async () => {
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#00ff00' } })
      .png()
      .toBuffer();
    const corrupt = Buffer.concat([png.subarray(0, 40), Buffer.alloc(60, 7)]);
    for (const bytes of [corrupt, Buffer.from('not an image at all')]) {
      const err = (await analyzeImage(bytes, ['text'], provider).catch((e: unknown) => e)) as HubError;
      expect(err).toBeInstanceOf(HubError);
      expect(err.code).toBe('IMAGE_UNREADABLE');
      expect(err.retriable).toBe(false);
    }
  });
});
