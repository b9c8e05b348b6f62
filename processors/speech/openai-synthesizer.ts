import type OpenAI from 'openai';
import { HubError } from '../../core/errors.ts';
import { mapOpenAiError } from '../shared/openai-client.ts';
import type { SpeechSynthesizer } from './types.ts';

/** Speech by an OpenAI TTS model (`gpt-4o-mini-tts`, `tts-1`...), asked for WAV. */
export function createOpenAiSynthesizer(
  client: OpenAI,
  options: { model: string; voice: string; timeoutMs: number },
): SpeechSynthesizer {
  return {
    name: 'openai',
    model: options.model,
    async synthesize(text, synthOptions) {
      if (!text.trim()) {
        throw new HubError('SPEECH_EMPTY_TEXT', 'there is no text to speak', { where: { field: 'text' } });
      }
      const voice = synthOptions.voice ?? options.voice;
      try {
        const response = await client.audio.speech.create(
          {
            model: options.model,
            voice,
            input: text,
            response_format: 'wav',
            ...(synthOptions.rate ? { speed: Math.max(0.25, Math.min(4, synthOptions.rate)) } : {}),
          },
          { timeout: options.timeoutMs, signal: synthOptions.signal ?? null },
        );
        return { wav: Buffer.from(await response.arrayBuffer()), voice };
      } catch (err) {
        throw mapOpenAiError(err, 'speech.synthesize');
      }
    },
  };
}
