import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { HubError } from '../../core/errors.ts';
import { runTool } from '../media-tools/run-tool.ts';
import { withTempDir } from '../media-tools/temp-dir.ts';
import { isKnownEspeakVoice } from './espeak-voices.ts';
import type { SpeechSynthesizer } from './types.ts';

export const espeakSettingsSchema = z.object({
  command: z.string().default('espeak-ng').describe('espeak-ng binary (Debian package espeak-ng)'),
  voice: z.string().default('en-us').describe('Default voice, e.g. en-us, en-gb, de, en-us+klatt4'),
  wordsPerMinute: z.number().int().min(80).max(450).default(170).describe('Speed at rate 1.0'),
  timeoutMs: z.number().int().positive().default(60_000).describe('Timeout of one synthesis in ms'),
});

export type EspeakSettings = z.infer<typeof espeakSettingsSchema>;

const voicePattern = /^[A-Za-z0-9_-]+(\+[A-Za-z0-9_-]+)?$/;

/** Offline speech with espeak-ng; the text goes in on stdin, so it is never parsed as options. */
export function createEspeakSynthesizer(settings: Partial<EspeakSettings> = {}): SpeechSynthesizer {
  const s = espeakSettingsSchema.parse(settings);
  return {
    name: 'offline',
    model: 'espeak-ng',
    async synthesize(text, options) {
      if (!text.trim()) {
        throw new HubError('SPEECH_EMPTY_TEXT', 'there is no text to speak', { where: { field: 'text' } });
      }
      const voice = options.voice ?? s.voice;
      if (!voicePattern.test(voice) || !(await isKnownEspeakVoice(s.command, voice))) {
        throw new HubError('SPEECH_BAD_VOICE', `espeak-ng has no voice ${voice}`, {
          where: { field: 'voice' },
          hint: 'list voices with: espeak-ng --voices',
        });
      }
      const rate = Math.max(0.5, Math.min(2, options.rate ?? 1));
      return withTempDir('espeak', async (dir) => {
        const out = join(dir, 'speech.wav');
        await runTool(
          s.command,
          ['-v', voice, '-s', String(Math.round(s.wordsPerMinute * rate)), '-w', out, '--stdin'],
          {
            input: Buffer.from(text, 'utf8'),
            timeoutMs: s.timeoutMs,
            signal: options.signal,
            failureCode: 'SPEECH_FAILED',
          },
        );
        const wav = await readFile(out).catch(() => Buffer.alloc(0));
        if (wav.byteLength <= 44) {
          throw new HubError('SPEECH_FAILED', `espeak-ng produced no audio for voice ${voice}`, {
            where: { field: 'voice' },
            hint: 'list voices with: espeak-ng --voices',
          });
        }
        return { wav, voice };
      });
    },
  };
}
