import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { concatAudio, type MediaToolOptions, probeMedia } from '../media-tools/ffmpeg.ts';
import { withTempDir } from '../media-tools/temp-dir.ts';
import type { AudioFormat, SpeechSynthesizer, SynthesizeOptions } from './types.ts';

export interface SpeechAudio {
  audio: Buffer;
  durationSec: number;
  voice: string;
}

/** Synthesises text and encodes it in the requested container (WAV as is, MP3 or Ogg through ffmpeg). */
export async function synthesizeSpeech(
  text: string,
  synthesizer: SpeechSynthesizer,
  options: SynthesizeOptions & { format?: AudioFormat; media?: MediaToolOptions } = {},
): Promise<SpeechAudio> {
  const { wav, voice } = await synthesizer.synthesize(text, options);
  const media = { ...options.media, signal: options.signal };
  return withTempDir('speech', async (dir) => {
    const source = join(dir, 'speech.wav');
    await writeFile(source, wav);
    const format = options.format ?? 'wav';
    let out = source;
    if (format !== 'wav') {
      out = join(dir, `speech.${format}`);
      await concatAudio([source], out, { ...media, container: format });
    }
    const probe = await probeMedia(out, media);
    return { audio: format === 'wav' ? wav : await readFile(out), durationSec: probe.durationSec, voice };
  });
}
