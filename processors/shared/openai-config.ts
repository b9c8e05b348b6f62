import { z } from 'zod';
import { openAiSettingsSchema } from './openai-client.ts';

/** True when an OpenAI provider can be built: a key or a compatible server's base URL is set. */
export function openAiConfigured(settings: z.infer<typeof openAiSettingsSchema>): boolean {
  return Boolean(settings.apiKey || settings.baseURL || process.env.OPENAI_BASE_URL);
}

/** OpenAI settings with the model a processor uses by default. */
export const openAiProviderSchema = (defaultModel: string, describeModel: string) =>
  openAiSettingsSchema.extend({
    model: z.string().default(defaultModel).describe(describeModel),
  });
