import exifReader from 'exif-reader';
import sharp, { type Metadata } from 'sharp';
import { HubError } from '../../core/errors.ts';
import type { ImageFacts, PreparedImage } from './types.ts';

export const maxEdge = 1024;
const supportedFormats = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif', 'heif', 'svg']);

/**
 * Normalises an image for the providers: rotate by EXIF orientation, fit inside 1024x1024
 * without enlarging, flatten transparency onto white, JPEG quality 85, metadata stripped
 * (sharp drops it unless asked to keep it). Facts are read from the original first.
 */
export async function prepareImage(bytes: Uint8Array): Promise<PreparedImage> {
  if (bytes.byteLength === 0) {
    throw new HubError('IMAGE_EMPTY', 'the image is empty (0 bytes)', { where: { field: 'image' } });
  }
  let metadata: Metadata;
  try {
    metadata = await sharp(bytes, { failOn: 'error' }).metadata();
  } catch (err) {
    throw unreadable(err);
  }
  if (!metadata.format || !supportedFormats.has(metadata.format)) {
    throw new HubError('IMAGE_UNSUPPORTED', `image format ${metadata.format ?? 'unknown'} is not supported`, {
      where: { field: 'image' },
      hint: `send one of ${[...supportedFormats].join(', ')}`,
    });
  }
  try {
    const { data, info } = await sharp(bytes, { failOn: 'error' })
      .rotate()
      .resize(maxEdge, maxEdge, { fit: 'inside', withoutEnlargement: true })
      .flatten({ background: '#ffffff' })
      .jpeg({ quality: 85 })
      .toBuffer({ resolveWithObject: true });
    const facts: ImageFacts = {
      width: metadata.width ?? info.width,
      height: metadata.height ?? info.height,
      format: metadata.format,
      orientation: metadata.orientation ?? null,
      hasAlpha: metadata.hasAlpha ?? false,
      dominantColours: await dominantColours(data),
      exif: readExif(metadata.exif),
    };
    return { jpeg: data, width: info.width, height: info.height, facts };
  } catch (err) {
    throw unreadable(err);
  }
}

function unreadable(err: unknown): HubError {
  const detail = err instanceof Error ? err.message : String(err);
  return new HubError(
    'IMAGE_UNREADABLE',
    `the image could not be decoded (corrupt or not an image): ${detail}`,
    {
      cause: err,
      where: { field: 'image' },
      hint: 'send a complete JPEG, PNG, WebP, GIF, TIFF or AVIF file',
    },
  );
}

/** The most frequent colours, counted on a 64x64 thumbnail in 32-level buckets per channel. */
export async function dominantColours(image: Uint8Array, count = 5): Promise<string[]> {
  const { data, info } = await sharp(image)
    .resize(64, 64, { fit: 'inside' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const buckets = new Map<number, { n: number; r: number; g: number; b: number }>();
  for (let i = 0; i + 2 < data.length; i += info.channels) {
    const r = data[i]!;
    const g = data[i + 1]!;
    const b = data[i + 2]!;
    const key = ((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3);
    const bucket = buckets.get(key) ?? { n: 0, r: 0, g: 0, b: 0 };
    bucket.n += 1;
    bucket.r += r;
    bucket.g += g;
    bucket.b += b;
    buckets.set(key, bucket);
  }
  const hex = (v: number) => Math.round(v).toString(16).padStart(2, '0');
  return [...buckets.values()]
    .sort((a, b) => b.n - a.n)
    .slice(0, count)
    .map((c) => `#${hex(c.r / c.n)}${hex(c.g / c.n)}${hex(c.b / c.n)}`);
}

const exifFields: [group: 'Image' | 'Photo', tag: string][] = [
  ['Image', 'Make'],
  ['Image', 'Model'],
  ['Image', 'Software'],
  ['Image', 'DateTime'],
  ['Image', 'Orientation'],
  ['Image', 'Artist'],
  ['Image', 'ImageDescription'],
  ['Photo', 'DateTimeOriginal'],
  ['Photo', 'ExposureTime'],
  ['Photo', 'FNumber'],
  ['Photo', 'ISOSpeedRatings'],
  ['Photo', 'FocalLength'],
  ['Photo', 'LensModel'],
];

/** Selected EXIF fields as text; GPS is left out on purpose (location is personal data). */
export function readExif(raw: Buffer | undefined): Record<string, string> {
  if (!raw) return {};
  try {
    const parsed = exifReader(raw);
    const out: Record<string, string> = {};
    for (const [group, tag] of exifFields) {
      const value = parsed[group]?.[tag];
      if (value === undefined || value === null) continue;
      out[tag] = value instanceof Date ? value.toISOString() : String(value);
    }
    return out;
  } catch {
    // Broken EXIF must not fail the analysis: the pixels are still fine.
    return {};
  }
}
