import type OpenAI from 'openai';
import { toFile } from 'openai';
import { mapOpenAiError } from '../shared/openai-client.ts';
import type { Transcriber, TranscriptWord } from './types.ts';

interface VerboseTranscription {
  text: string;
  language?: string;
  duration?: number;
  words?: { word: string; start: number; end: number }[];
}

/**
 * Transcription by an OpenAI model (audio upload as multipart form data). Only `whisper-1`
 * returns word times (verbose_json with word granularity); for the gpt-4o transcribe models
 * word timestamps are reported unsupported. Hints go into the prompt.
 */
export function createOpenAiTranscriber(
  client: OpenAI,
  options: { model: string; timeoutMs: number },
): Transcriber {
  const verbose = options.model.startsWith('whisper');
  return {
    name: 'openai',
    model: options.model,
    async transcribe(wav, transcribeOptions) {
      const hints = transcribeOptions.hints ?? [];
      try {
        const file = await toFile(wav, 'audio.wav', { type: 'audio/wav' });
        const response = (await client.audio.transcriptions.create(
          {
            file,
            model: options.model,
            ...(transcribeOptions.language ? { language: transcribeOptions.language } : {}),
            ...(hints.length > 0 ? { prompt: `Vocabulary: ${hints.join(', ')}.` } : {}),
            ...(verbose
              ? {
                  response_format: 'verbose_json' as const,
                  timestamp_granularities:
                    transcribeOptions.wordTimestamps === false ? ['segment' as const] : ['word' as const],
                }
              : { response_format: 'json' as const }),
          },
          { timeout: options.timeoutMs, signal: transcribeOptions.signal ?? null },
        )) as unknown as VerboseTranscription;
        const words: TranscriptWord[] = (response.words ?? []).map((w) => ({
          word: w.word,
          startSec: w.start,
          endSec: w.end,
          confidence: null,
        }));
        return {
          text: (response.text ?? '').trim(),
          language: response.language ?? transcribeOptions.language ?? null,
          durationSec: response.duration ?? null,
          wordTimestamps: verbose && response.words ? 'succeeded' : 'unsupported',
          words,
        };
      } catch (err) {
        throw mapOpenAiError(err, 'audio.transcribe');
      }
    },
  };
}
