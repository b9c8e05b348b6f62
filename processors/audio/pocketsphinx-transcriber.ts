import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { HubError } from '../../core/errors.ts';
import { probeMedia } from '../media-tools/ffmpeg.ts';
import { runTool } from '../media-tools/run-tool.ts';
import { withTempDir } from '../media-tools/temp-dir.ts';
import { hintsToJsgf, loadDictionaryWords } from './jsgf-grammar.ts';
import type { Transcriber, TranscriptWord } from './types.ts';

export const pocketsphinxSettingsSchema = z.object({
  command: z
    .string()
    .default('pocketsphinx_continuous')
    .describe('pocketsphinx CLI (Debian package pocketsphinx)'),
  modelDir: z
    .string()
    .default('/usr/share/pocketsphinx/model/en-us')
    .describe('Folder of the en-us model (Debian package pocketsphinx-en-us)'),
  timeoutMs: z.number().int().positive().default(120_000).describe('Timeout of one transcription in ms'),
});

export type PocketsphinxSettings = z.infer<typeof pocketsphinxSettingsSchema>;

const wordLine = /^(\S+) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?)$/;
const fillers = /^(<s>|<\/s>|<sil>|\(NULL\)|\[.*\]|\+\+.*\+\+)$/;

/** Parses `pocketsphinx_continuous -time yes` output into timed words (fillers dropped). */
export function parsePocketsphinxOutput(output: string): TranscriptWord[] {
  const words: TranscriptWord[] = [];
  for (const line of output.split('\n')) {
    const m = wordLine.exec(line.trim());
    if (!m || fillers.test(m[1]!)) continue;
    words.push({
      word: m[1]!.replace(/\(\d+\)$/, ''),
      startSec: Number(m[2]),
      endSec: Number(m[3]),
      confidence: Math.min(1, Number(m[4])),
    });
  }
  return words;
}

/**
 * Offline transcription with pocketsphinx (US English). With hints it decodes against a JSGF
 * grammar built from them, otherwise against the model's language model. Word times come
 * from `-time yes`.
 */
export function createPocketsphinxTranscriber(settings: Partial<PocketsphinxSettings> = {}): Transcriber {
  const s = pocketsphinxSettingsSchema.parse(settings);
  const dictPath = join(s.modelDir, 'cmudict-en-us.dict');
  return {
    name: 'offline',
    model: 'pocketsphinx/en-us',
    async transcribe(wav, options) {
      if (options.language && !options.language.toLowerCase().startsWith('en')) {
        throw new HubError(
          'AUDIO_LANGUAGE_UNSUPPORTED',
          `the offline transcriber knows only English, not ${options.language}`,
          {
            where: { field: 'language' },
            hint: 'use the openai provider for other languages',
          },
        );
      }
      return withTempDir('sphinx', async (dir) => {
        const input = join(dir, 'input.wav');
        await writeFile(input, wav);
        const args = ['-infile', input, '-hmm', join(s.modelDir, 'en-us'), '-dict', dictPath, '-time', 'yes'];
        args.push('-logfn', join(dir, 'decoder.log'));
        const grammar = options.hints?.length
          ? hintsToJsgf(options.hints, await loadDictionaryWords(dictPath))
          : null;
        if (grammar?.jsgf) {
          const grammarPath = join(dir, 'hints.jsgf');
          await writeFile(grammarPath, grammar.jsgf);
          args.push('-jsgf', grammarPath);
        } else {
          args.push('-lm', join(s.modelDir, 'en-us.lm.bin'));
        }
        const [{ stdout }, probe] = await Promise.all([
          runTool(s.command, args, {
            timeoutMs: s.timeoutMs,
            signal: options.signal,
            failureCode: 'TRANSCRIBE_FAILED',
          }),
          probeMedia(input, { signal: options.signal }),
        ]);
        const words = parsePocketsphinxOutput(stdout.toString('utf8'));
        return {
          text: words.map((w) => w.word).join(' '),
          language: 'en',
          durationSec: Number.isFinite(probe.durationSec) ? probe.durationSec : null,
          wordTimestamps: 'succeeded',
          words,
        };
      });
    },
  };
}
