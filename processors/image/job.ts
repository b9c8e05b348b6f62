import type { z } from 'zod';
import type { EventData } from '../../schemas/index.ts';
import type { MediaJobSpec } from '../shared/media-service.ts';
import { createOpenAiClient } from '../shared/openai-client.ts';
import { openAiConfigured, openAiProviderSchema } from '../shared/openai-config.ts';
import { processorBaseConfigSchema, providerNameSchema } from '../shared/processor-config.ts';
import { createProviderChoice } from '../shared/provider-choice.ts';
import { analyzeImage } from './analyze.ts';
import { createOfflineImageProvider } from './offline-provider.ts';
import { createOpenAiImageProvider } from './openai-provider.ts';
import type { ImageProvider } from './types.ts';

type Request = EventData<'tributary.media.ImageAnalyzeRequest'>;
type Result = EventData<'tributary.media.ImageAnalyzeResult'>;

export const imageConfigSchema = processorBaseConfigSchema.extend({
  provider: providerNameSchema.default('offline').describe('Provider used when a request names none'),
  openai: openAiProviderSchema('gpt-4o-mini', 'Vision model for describe, objects and OCR')
    .default(openAiProviderSchema('gpt-4o-mini', '').parse({}))
    .describe('OpenAI or compatible server (OPENAI_API_KEY, OPENAI_BASE_URL)'),
});

export type ImageConfig = z.infer<typeof imageConfigSchema>;

export const IMAGE_REQUEST_TOPIC = 'media.image.analyze.req';
export const IMAGE_RESULT_TOPIC = 'media.image.analyze.res';

/** The image.analyze job: fetch and verify the blob, preprocess, run the analyses. */
export function createImageJob(config: ImageConfig) {
  const providers = createProviderChoice<ImageProvider>(config.provider, {
    offline: () => createOfflineImageProvider(),
    openai: openAiConfigured(config.openai)
      ? () => createOpenAiImageProvider(createOpenAiClient(config.openai), config.openai)
      : undefined,
  });
  const spec: MediaJobSpec<Request, Result> = {
    component: 'processor.image',
    command: 'image.analyze',
    requestTopic: IMAGE_REQUEST_TOPIC,
    resultTopic: IMAGE_RESULT_TOPIC,
    resultType: 'tributary.media.ImageAnalyzeResult',
    async handle(data, job) {
      const provider = providers.get(data.provider);
      const bytes = await job.blobs.get(data.image);
      await job.progress('analyze', 10, `${data.analyses.join(', ')} with ${provider.name}`);
      const result = await analyzeImage(bytes, data.analyses, provider, {
        prompt: data.prompt ?? null,
        language: data.language ?? null,
        signal: job.signal,
      });
      return result;
    },
    failed(data) {
      return {
        provider: data.provider ?? config.provider,
        model: null,
        facts: null,
        describe: null,
        objects: null,
        text: null,
      };
    },
  };
  return {
    spec,
    async close() {
      await Promise.all(providers.built().map((p) => p.close()));
    },
  };
}
