/** Shapes of the audio processor; they mirror `tributary.media.AudioTranscribeResult`. */

export type AnalysisStatus = 'succeeded' | 'failed' | 'unsupported';

export interface TranscriptWord {
  word: string;
  startSec: number;
  endSec: number;
  confidence: number | null;
}

export interface Transcript {
  text: string;
  language: string | null;
  durationSec: number | null;
  /** `unsupported` when the provider gives no word times; `words` is then empty. */
  wordTimestamps: AnalysisStatus;
  words: TranscriptWord[];
}

export interface TranscribeOptions {
  /** ISO 639-1 code, e.g. `en`; null lets the provider decide. */
  language?: string | null;
  /** Words or phrases likely spoken. */
  hints?: string[];
  wordTimestamps?: boolean;
  signal?: AbortSignal;
}

/** Turns 16 kHz mono WAV into text. */
export interface Transcriber {
  readonly name: string;
  readonly model: string | null;
  transcribe(wav16kMono: Buffer, options: TranscribeOptions): Promise<Transcript>;
}

export interface SentimentOutcome {
  status: AnalysisStatus;
  /** -1 (negative) .. 1 (positive). */
  score: number | null;
  label: 'negative' | 'neutral' | 'positive' | null;
  /** Emotion name -> strength 0..1; empty when the analyser gives none. */
  emotions: Record<string, number>;
  reason: string | null;
}

/** Sentiment and emotions of a transcript. */
export interface SentimentAnalyzer {
  readonly name: string;
  analyze(
    text: string,
    options: { signal?: AbortSignal; language?: string | null },
  ): Promise<SentimentOutcome>;
}
