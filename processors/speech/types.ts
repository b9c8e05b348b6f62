/** Shapes of the speech processor. */

export type AudioFormat = 'wav' | 'mp3' | 'ogg';

export interface SynthesizeOptions {
  voice?: string | null;
  /** Speed relative to normal, 0.5 to 2.0. */
  rate?: number | null;
  signal?: AbortSignal;
}

export interface SynthesizedAudio {
  /** WAV bytes. */
  wav: Buffer;
  voice: string;
}

/** Turns text into speech. */
export interface SpeechSynthesizer {
  readonly name: string;
  readonly model: string | null;
  synthesize(text: string, options: SynthesizeOptions): Promise<SynthesizedAudio>;
}

export const mediaTypeOf: Record<AudioFormat, string> = {
  wav: 'audio/wav',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
};
