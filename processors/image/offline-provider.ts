import { createTesseractOcr } from './tesseract-ocr.ts';
import type { ImageFacts, ImageProvider } from './types.ts';

/**
 * The offline image provider: OCR by tesseract.js, a factual description built only from what
 * the image itself says (size, format, colours, EXIF), and no object detection (reported as
 * unsupported rather than guessed).
 */
export function createOfflineImageProvider(): ImageProvider {
  const ocr = createTesseractOcr();
  return {
    name: 'offline',
    model: 'tesseract.js/eng',
    async describe(image) {
      return { status: 'succeeded', text: describeFacts(image.facts), reason: null };
    },
    async objects() {
      return {
        status: 'unsupported',
        objects: [],
        reason: 'the offline provider has no object detector; use the openai provider for objects',
      };
    },
    async text(image, options) {
      const language = options.language?.toLowerCase();
      if (language && language !== 'en' && language !== 'eng') {
        return {
          status: 'unsupported',
          text: null,
          confidence: null,
          reason: `offline OCR has English data only, not ${options.language}`,
        };
      }
      const { text, confidence } = await ocr.recognize(image.jpeg);
      return { status: 'succeeded', text, confidence, reason: null };
    },
    close: () => ocr.close(),
  };
}

/** A plain sentence of image facts; says nothing the pixels and metadata do not. */
export function describeFacts(facts: ImageFacts): string {
  const parts = [
    `A ${facts.width}x${facts.height} ${facts.format.toUpperCase()} image${facts.hasAlpha ? ' with transparency' : ''}.`,
  ];
  if (facts.dominantColours.length > 0) parts.push(`Dominant colours: ${facts.dominantColours.join(', ')}.`);
  const camera = [facts.exif.Make, facts.exif.Model].filter(Boolean).join(' ');
  if (camera) parts.push(`Taken with ${camera}.`);
  const taken = facts.exif.DateTimeOriginal ?? facts.exif.DateTime;
  if (taken) parts.push(`Dated ${taken}.`);
  return parts.join(' ');
}
