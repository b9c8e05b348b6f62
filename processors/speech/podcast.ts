import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HubError } from '../../core/errors.ts';
import { concatAudio, type MediaToolOptions, probeMedia, writeSilence } from '../media-tools/ffmpeg.ts';
import { withTempDir } from '../media-tools/temp-dir.ts';
import type { AudioFormat, SpeechSynthesizer } from './types.ts';

export interface PodcastScript {
  speakers: { name: string; voice?: string | null; rate?: number | null }[];
  parts: { speaker: string; text: string }[];
  pauseMs?: number;
  format?: AudioFormat;
}

export interface PodcastAudio {
  audio: Buffer;
  durationSec: number;
  partCount: number;
}

export interface PodcastOptions {
  signal?: AbortSignal;
  media?: MediaToolOptions;
  /** Called after each step, so long jobs can emit progress events. */
  onProgress?: (stage: string, percent: number) => void;
}

/** Checks the script before any synthesis: parts present, every speaker declared, no empty text. */
export function validateScript(script: PodcastScript): void {
  if (script.parts.length === 0) {
    throw new HubError('PODCAST_EMPTY', 'the podcast has no parts', { where: { field: 'parts' } });
  }
  const names = new Set(script.speakers.map((s) => s.name));
  script.parts.forEach((part, i) => {
    if (!names.has(part.speaker)) {
      throw new HubError(
        'PODCAST_UNKNOWN_SPEAKER',
        `part ${i + 1} names speaker "${part.speaker}", who is not declared`,
        {
          where: { field: `parts[${i}].speaker` },
          hint: `declared speakers: ${[...names].join(', ') || 'none'}`,
        },
      );
    }
    if (!part.text.trim()) {
      throw new HubError('PODCAST_EMPTY_PART', `part ${i + 1} has no text`, {
        where: { field: `parts[${i}].text` },
      });
    }
  });
  if ((script.pauseMs ?? 0) < 0) {
    throw new HubError('PODCAST_BAD_PAUSE', 'pauseMs must not be negative', { where: { field: 'pauseMs' } });
  }
}

/**
 * Builds a podcast: one synthesis per part with its speaker's voice, the same silence between
 * parts, joined by ffmpeg into one file. All intermediate files live in one temp folder that is
 * removed on success and on failure.
 */
export async function createPodcast(
  script: PodcastScript,
  synthesizer: SpeechSynthesizer,
  options: PodcastOptions = {},
): Promise<PodcastAudio> {
  validateScript(script);
  const speakers = new Map(script.speakers.map((s) => [s.name, s]));
  const pauseMs = script.pauseMs ?? 400;
  const media = { ...options.media, signal: options.signal };
  const steps = script.parts.length + 1;
  return withTempDir('podcast', async (dir) => {
    const sequence: string[] = [];
    const silence = join(dir, 'silence.wav');
    if (pauseMs > 0 && script.parts.length > 1) await writeSilence(silence, pauseMs / 1000, media);
    for (const [i, part] of script.parts.entries()) {
      const speaker = speakers.get(part.speaker)!;
      const { wav } = await synthesizer.synthesize(part.text, {
        voice: speaker.voice ?? null,
        rate: speaker.rate ?? null,
        signal: options.signal,
      });
      const path = join(dir, `part-${i}.wav`);
      await writeFile(path, wav);
      if (i > 0 && pauseMs > 0) sequence.push(silence);
      sequence.push(path);
      options.onProgress?.(`synthesize part ${i + 1}/${script.parts.length}`, ((i + 1) / steps) * 100);
    }
    const format = script.format ?? 'wav';
    const out = join(dir, `podcast.${format}`);
    await concatAudio(sequence, out, { ...media, container: format });
    const probe = await probeMedia(out, media);
    options.onProgress?.('join', 100);
    return { audio: await readFile(out), durationSec: probe.durationSec, partCount: script.parts.length };
  });
}
