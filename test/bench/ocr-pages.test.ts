import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { pageLines, renderPage, wordRecall } from '../../bench/support/ocr-pages.ts';

// The OCR benchmark's pages are generated: the same words on every run, and a recall that
// counts each drawn word once.
describe('OCR benchmark pages', () => {
  it('are the same on every run and differ from page to page', async () => {
    expect(pageLines(3)).toEqual(pageLines(3));
    expect(pageLines(3)).not.toEqual(pageLines(4));
    const page = await renderPage(2);
    expect(page.words).toEqual(pageLines(2).flatMap((l) => l.split(' ')));
    expect(await sharp(page.png).metadata()).toMatchObject({ format: 'png', width: 1000, height: 800 });
  });

  it('score the share of drawn words found, each found word used once', () => {
    expect(wordRecall(['due', 'due', 'total'], 'total due\n\nsomething')).toBeCloseTo(2 / 3);
    expect(wordRecall(['invoice'], '')).toBe(0);
    expect(wordRecall(['a', 'b'], 'b a')).toBe(1);
  });
});
