import { z } from 'zod';
import type { EventData } from '../../schemas/index.ts';
import type { MediaJobSpec } from '../shared/media-service.ts';
import { createOpenAiClient } from '../shared/openai-client.ts';
import { openAiConfigured, openAiProviderSchema } from '../shared/openai-config.ts';
import { processorBaseConfigSchema, providerNameSchema } from '../shared/processor-config.ts';
import { createProviderChoice } from '../shared/provider-choice.ts';
import { createOpenAiTranscriber } from './openai-transcriber.ts';
import { createPocketsphinxTranscriber, pocketsphinxSettingsSchema } from './pocketsphinx-transcriber.ts';
import { createLexiconSentiment, createOpenAiSentiment } from './sentiment.ts';
import { transcribeAudio } from './transcribe.ts';
import type { SentimentAnalyzer, Transcriber } from './types.ts';

type Request = EventData<'tributary.media.AudioTranscribeRequest'>;
type Result = EventData<'tributary.media.AudioTranscribeResult'>;

const openAiAudio = openAiProviderSchema(
  'whisper-1',
  'Transcription model: whisper-1 (word times) or gpt-4o-transcribe',
).extend({
  sentimentModel: z.string().default('gpt-4o-mini').describe('Chat model for sentiment and emotions'),
});

export const audioConfigSchema = processorBaseConfigSchema.extend({
  provider: providerNameSchema.default('offline').describe('Provider used when a request names none'),
  pocketsphinx: pocketsphinxSettingsSchema
    .default(pocketsphinxSettingsSchema.parse({}))
    .describe('Offline recogniser'),
  openai: openAiAudio
    .default(openAiAudio.parse({}))
    .describe('OpenAI or compatible server (OPENAI_API_KEY, OPENAI_BASE_URL)'),
});

export type AudioConfig = z.infer<typeof audioConfigSchema>;

export const AUDIO_REQUEST_TOPIC = 'media.audio.transcribe.req';
export const AUDIO_RESULT_TOPIC = 'media.audio.transcribe.res';

/** The audio.transcribe job: fetch and verify the blob, convert to 16 kHz mono, transcribe, rate. */
export function createAudioJob(config: AudioConfig) {
  const openai = openAiConfigured(config.openai) ? createOpenAiClient(config.openai) : undefined;
  const transcribers = createProviderChoice<Transcriber>(config.provider, {
    offline: () => createPocketsphinxTranscriber(config.pocketsphinx),
    openai: openai ? () => createOpenAiTranscriber(openai, config.openai) : undefined,
  });
  const sentiments = createProviderChoice<SentimentAnalyzer>(config.provider, {
    offline: () => createLexiconSentiment(),
    openai: openai
      ? () =>
          createOpenAiSentiment(openai, {
            model: config.openai.sentimentModel,
            timeoutMs: config.openai.timeoutMs,
          })
      : undefined,
  });
  const spec: MediaJobSpec<Request, Result> = {
    component: 'processor.audio',
    command: 'audio.transcribe',
    requestTopic: AUDIO_REQUEST_TOPIC,
    resultTopic: AUDIO_RESULT_TOPIC,
    resultType: 'tributary.media.AudioTranscribeResult',
    async handle(data, job) {
      const transcriber = transcribers.get(data.provider);
      const sentiment = data.sentiment ? sentiments.get(data.provider) : null;
      const bytes = await job.blobs.get(data.audio);
      await job.progress('transcribe', 10, `with ${transcriber.name}`);
      const result = await transcribeAudio(bytes, transcriber, {
        language: data.language ?? null,
        hints: data.hints ?? [],
        wordTimestamps: data.wordTimestamps ?? true,
        sentiment,
        signal: job.signal,
      });
      return {
        provider: result.provider,
        model: result.model,
        transcript: result.text,
        language: result.language,
        durationSec: result.durationSec,
        wordTimestamps: result.wordTimestamps,
        words: result.words,
        sentiment: result.sentiment,
      };
    },
    failed(data) {
      return {
        provider: data.provider ?? config.provider,
        model: null,
        transcript: null,
        language: null,
        durationSec: null,
        wordTimestamps: 'unsupported',
        words: [],
        sentiment: null,
      };
    },
  };
  return { spec };
}
