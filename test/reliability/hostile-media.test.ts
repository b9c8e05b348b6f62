import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubError } from '../../core/errors.ts';
import { prepareImage } from '../../processors/image/preprocess.ts';
import { toWav16kMono } from '../../processors/media-tools/ffmpeg.ts';
import { type Mutator, mutator, runSeed, seededRandom } from './hostile-bytes.ts';
import { createTally } from './tally.ts';

/**
 * Hostile media files into the processors' first steps: image preprocessing (sharp) and audio
 * conversion (ffprobe + ffmpeg). Each input either works or gives a HubError with a media
 * code; nothing throws anything else, nothing crashes the process, no temp file stays behind.
 * Audio gets fewer inputs: each one spawns ffprobe and ffmpeg.
 */

const tally = createTally(import.meta.filename);
const seed = runSeed();
const IMAGES = 10_000;
const AUDIO = 200;

let ownTmp: string;
const previousTmp = process.env.TMPDIR;
beforeAll(async () => {
  // A private temp folder, so "nothing left behind" is exact while other tests run.
  ownTmp = await mkdtemp(join(tmpdir(), 'tributary-rel-media-'));
  process.env.TMPDIR = ownTmp;
});
afterAll(async () => {
  if (previousTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = previousTmp;
  await rm(ownTmp, { recursive: true, force: true });
  tally.report();
});

type Kind = 'random' | 'truncated' | 'flipped' | 'header-only' | 'spliced' | 'empty';

function corrupt(m: Mutator, valid: Buffer): { kind: Kind; bytes: Buffer } {
  const kind =
    m.int(100) === 0 ? 'empty' : m.pick<Kind>(['random', 'truncated', 'flipped', 'header-only', 'spliced']);
  switch (kind) {
    case 'empty':
      return { kind, bytes: Buffer.alloc(0) };
    case 'random':
      return { kind, bytes: m.bytes(1 + m.int(2000)) };
    case 'truncated':
      return { kind, bytes: m.truncate(valid) };
    case 'flipped':
      return { kind, bytes: m.flip(valid, 0) };
    case 'header-only':
      // A real signature and header, then garbage.
      return { kind, bytes: Buffer.concat([valid.subarray(0, 8 + m.int(40)), m.bytes(m.int(500))]) };
    case 'spliced':
      return { kind, bytes: m.hugeLength(valid, m.int(64)) };
  }
}

/** Runs `attempt` over inputs, `parallel` at a time; tallies outcomes by code. */
async function feed(
  count: number,
  parallel: number,
  next: () => { kind: Kind; bytes: Buffer },
  attempt: (bytes: Buffer) => Promise<unknown>,
  codes: string[],
): Promise<Map<string, number>> {
  const outcomes = new Map<string, number>();
  let started = 0;
  const worker = async () => {
    while (started < count) {
      const i = started++;
      const input = next();
      let outcome = 'ok';
      try {
        await attempt(input.bytes);
      } catch (err) {
        if (!(err instanceof HubError) || !codes.includes(err.code)) {
          throw new Error(
            `${input.kind} input #${i} (seed ${seed}) gave ${err instanceof HubError ? err.code : String(err)}`,
          );
        }
        expect(err.message.length).toBeGreaterThan(10);
        outcome = err.code;
      }
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return outcomes;
}

const summary = (outcomes: Map<string, number>) => [...outcomes].map(([k, n]) => `${k} ${n}`).join(', ');

describe(`hostile media files (seed ${seed})`, () => {
  it(`${IMAGES} corrupt PNG/JPEG files into image preprocessing: a result or a clear image error each`, {
    timeout: 120_000,
  }, async () => {
    // A noisy picture, so the files have real compressed data to damage.
    const raw = Buffer.alloc(96 * 64 * 3);
    const m = mutator(seededRandom(seed));
    for (let i = 0; i < raw.length; i++) raw[i] = (i * 7 + m.int(40)) % 256;
    const image = sharp(raw, { raw: { width: 96, height: 64, channels: 3 } });
    const valid = [await image.clone().png().toBuffer(), await image.clone().jpeg().toBuffer()];
    const outcomes = await feed(
      IMAGES,
      4,
      () => corrupt(m, m.pick(valid)),
      (bytes) => prepareImage(bytes),
      ['IMAGE_EMPTY', 'IMAGE_UNSUPPORTED', 'IMAGE_UNREADABLE'],
    );
    tally.add(
      { inputsTried: IMAGES },
      `image preprocessing: ${IMAGES} corrupt PNG/JPEG -> ${summary(outcomes)}`,
    );
    expect(outcomes.get('IMAGE_UNREADABLE')).toBeGreaterThan(0);
    // Still working afterwards.
    expect((await prepareImage(valid[0]!)).width).toBe(96);
  });

  it(`${AUDIO} corrupt WAV files into audio conversion (ffmpeg): a result or a clear audio error each, no temp file left`, {
    timeout: 120_000,
  }, async () => {
    const m = mutator(seededRandom(seed + 1));
    const wav = pcmWav(8000, 0.25, m);
    const outcomes = await feed(
      AUDIO,
      2,
      () => corrupt(m, wav),
      (bytes) => toWav16kMono(bytes, { timeoutMs: 20_000 }),
      ['AUDIO_EMPTY', 'AUDIO_UNREADABLE', 'AUDIO_NO_STREAM', 'MEDIA_UNREADABLE'],
    );
    tally.add(
      { inputsTried: AUDIO },
      `audio conversion: ${AUDIO} corrupt WAV (kept low: two processes per input) -> ${summary(outcomes)}`,
    );
    expect(outcomes.get('AUDIO_UNREADABLE')).toBeGreaterThan(0);
    expect(await readdir(ownTmp)).toEqual([]);
    expect((await toWav16kMono(wav)).subarray(0, 4).toString('latin1')).toBe('RIFF');
  });
});

/** A mono 16-bit PCM WAV of noise, `seconds` long. */
function pcmWav(rate: number, seconds: number, m: Mutator): Buffer {
  const samples = Math.floor(rate * seconds);
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++)
    data.writeInt16LE(Math.round(Math.sin(i / 5) * 8000) + m.int(2000) - 1000, i * 2);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8, 'latin1');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}
