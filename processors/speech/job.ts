import { z } from 'zod';
import type { EventData } from '../../schemas/index.ts';
import type { MediaJobSpec } from '../shared/media-service.ts';
import { createOpenAiClient } from '../shared/openai-client.ts';
import { openAiConfigured, openAiProviderSchema } from '../shared/openai-config.ts';
import { processorBaseConfigSchema, providerNameSchema } from '../shared/processor-config.ts';
import { createProviderChoice } from '../shared/provider-choice.ts';
import { createEspeakSynthesizer, espeakSettingsSchema } from './espeak-synthesizer.ts';
import { createOpenAiSynthesizer } from './openai-synthesizer.ts';
import { createPodcast } from './podcast.ts';
import { synthesizeSpeech } from './synthesize.ts';
import { mediaTypeOf, type SpeechSynthesizer } from './types.ts';

type SpeechRequest = EventData<'tributary.media.SpeechSynthesizeRequest'>;
type SpeechResult = EventData<'tributary.media.SpeechSynthesizeResult'>;
type PodcastRequest = EventData<'tributary.media.PodcastCreateRequest'>;
type PodcastResult = EventData<'tributary.media.PodcastCreateResult'>;

const openAiSpeech = openAiProviderSchema(
  'gpt-4o-mini-tts',
  'TTS model, e.g. gpt-4o-mini-tts or tts-1',
).extend({
  voice: z.string().default('alloy').describe('Default voice'),
});

export const speechConfigSchema = processorBaseConfigSchema.extend({
  provider: providerNameSchema.default('offline').describe('Provider used when a request names none'),
  espeak: espeakSettingsSchema.default(espeakSettingsSchema.parse({})).describe('Offline synthesiser'),
  openai: openAiSpeech
    .default(openAiSpeech.parse({}))
    .describe('OpenAI or compatible server (OPENAI_API_KEY, OPENAI_BASE_URL)'),
});

export type SpeechConfig = z.infer<typeof speechConfigSchema>;

export const SPEECH_REQUEST_TOPIC = 'media.speech.synthesize.req';
export const SPEECH_RESULT_TOPIC = 'media.speech.synthesize.res';
export const PODCAST_REQUEST_TOPIC = 'media.podcast.create.req';
export const PODCAST_RESULT_TOPIC = 'media.podcast.create.res';

/** The speech.synthesize and podcast.create jobs; audio goes to the blob store, events carry the reference. */
export function createSpeechJobs(config: SpeechConfig) {
  const synthesizers = createProviderChoice<SpeechSynthesizer>(config.provider, {
    offline: () => createEspeakSynthesizer(config.espeak),
    openai: openAiConfigured(config.openai)
      ? () => createOpenAiSynthesizer(createOpenAiClient(config.openai), config.openai)
      : undefined,
  });
  const speech: MediaJobSpec<SpeechRequest, SpeechResult> = {
    component: 'processor.speech',
    command: 'speech.synthesize',
    requestTopic: SPEECH_REQUEST_TOPIC,
    resultTopic: SPEECH_RESULT_TOPIC,
    resultType: 'tributary.media.SpeechSynthesizeResult',
    async handle(data, job) {
      const synthesizer = synthesizers.get(data.provider);
      const format = data.format ?? 'wav';
      const out = await synthesizeSpeech(data.text, synthesizer, {
        voice: data.voice ?? null,
        rate: data.rate ?? null,
        format,
        signal: job.signal,
      });
      const audio = await job.blobs.put(out.audio, mediaTypeOf[format]);
      return {
        provider: synthesizer.name,
        model: synthesizer.model,
        audio,
        durationSec: out.durationSec,
        voice: out.voice,
      };
    },
    failed(data) {
      return {
        provider: data.provider ?? config.provider,
        model: null,
        audio: null,
        durationSec: null,
        voice: null,
      };
    },
  };
  const podcast: MediaJobSpec<PodcastRequest, PodcastResult> = {
    component: 'processor.speech',
    command: 'podcast.create',
    requestTopic: PODCAST_REQUEST_TOPIC,
    resultTopic: PODCAST_RESULT_TOPIC,
    resultType: 'tributary.media.PodcastCreateResult',
    async handle(data, job) {
      const synthesizer = synthesizers.get(data.provider);
      const format = data.format ?? 'wav';
      const out = await createPodcast(
        { speakers: data.speakers, parts: data.parts, pauseMs: data.pauseMs ?? 400, format },
        synthesizer,
        { signal: job.signal, onProgress: (stage, percent) => void job.progress(stage, percent) },
      );
      const audio = await job.blobs.put(out.audio, mediaTypeOf[format]);
      return {
        provider: synthesizer.name,
        model: synthesizer.model,
        audio,
        durationSec: out.durationSec,
        partCount: out.partCount,
      };
    },
    failed(data) {
      return {
        provider: data.provider ?? config.provider,
        model: null,
        audio: null,
        durationSec: null,
        partCount: 0,
      };
    },
  };
  return { speech, podcast };
}
