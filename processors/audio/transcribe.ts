import { HubError } from '../../core/errors.ts';
import { type MediaToolOptions, toWav16kMono } from '../media-tools/ffmpeg.ts';
import type {
  SentimentAnalyzer,
  SentimentOutcome,
  TranscribeOptions,
  Transcriber,
  Transcript,
} from './types.ts';

export interface TranscriptionResult extends Transcript {
  provider: string;
  model: string | null;
  sentiment: SentimentOutcome | null;
}

/**
 * Converts any audio to 16 kHz mono WAV with ffmpeg, transcribes it, and, when asked, rates
 * the transcript's sentiment. A sentiment failure that cannot be retried is reported next to
 * the transcript rather than discarding it.
 */
export async function transcribeAudio(
  audio: Uint8Array,
  transcriber: Transcriber,
  options: TranscribeOptions & { sentiment?: SentimentAnalyzer | null; media?: MediaToolOptions } = {},
): Promise<TranscriptionResult> {
  const wav = await toWav16kMono(audio, { ...options.media, signal: options.signal });
  const transcript = await transcriber.transcribe(wav, options);
  let sentiment: SentimentOutcome | null = null;
  if (options.sentiment) {
    try {
      sentiment = await options.sentiment.analyze(transcript.text, {
        signal: options.signal,
        language: transcript.language,
      });
    } catch (err) {
      if (err instanceof HubError && err.retriable) throw err;
      const reason = err instanceof HubError ? `${err.code}: ${err.message}` : String(err);
      sentiment = { status: 'failed', score: null, label: null, emotions: {}, reason };
    }
  }
  return { ...transcript, provider: transcriber.name, model: transcriber.model, sentiment };
}
