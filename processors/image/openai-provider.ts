import type OpenAI from 'openai';
import { z } from 'zod';
import { HubError } from '../../core/errors.ts';
import { mapOpenAiError, parseModelJson } from '../shared/openai-client.ts';
import type { AnalyzeOptions, ImageProvider, PreparedImage } from './types.ts';

const objectsSchema = z.object({
  objects: z.array(
    z.object({
      name: z.string(),
      confidence: z.number().min(0).max(1),
      box: z.object({
        x: z.number().min(0).max(1),
        y: z.number().min(0).max(1),
        width: z.number().min(0).max(1),
        height: z.number().min(0).max(1),
      }),
    }),
  ),
});

/** The JSON schema sent as `response_format` for objects (strict structured output). */
export const objectsJsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['objects'],
  properties: {
    objects: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'confidence', 'box'],
        properties: {
          name: { type: 'string', description: 'What the object is, in a few words' },
          confidence: { type: 'number', description: 'Confidence between 0 and 1' },
          box: {
            type: 'object',
            additionalProperties: false,
            required: ['x', 'y', 'width', 'height'],
            description: 'Bounding box as fractions (0..1) of the image width and height, origin top left',
            properties: {
              x: { type: 'number' },
              y: { type: 'number' },
              width: { type: 'number' },
              height: { type: 'number' },
            },
          },
        },
      },
    },
  },
} as const;

const dataUri = (image: PreparedImage) => `data:image/jpeg;base64,${image.jpeg.toString('base64')}`;

/**
 * Image analyses by an OpenAI vision model (chat completions with a data-URI image). Works
 * with any OpenAI-compatible server through the client's base URL.
 */
export function createOpenAiImageProvider(
  client: OpenAI,
  options: { model: string; timeoutMs: number },
): ImageProvider {
  const ask = async (
    operation: string,
    image: PreparedImage,
    instruction: string,
    extra: Partial<OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming>,
    analyzeOptions: AnalyzeOptions,
  ): Promise<string> => {
    try {
      const completion = await client.chat.completions.create(
        {
          model: options.model,
          messages: [
            {
              role: 'user',
              content: [
                { type: 'text', text: instruction },
                { type: 'image_url', image_url: { url: dataUri(image), detail: 'auto' } },
              ],
            },
          ],
          ...extra,
        },
        { timeout: options.timeoutMs, signal: analyzeOptions.signal ?? null },
      );
      const content = completion.choices?.[0]?.message?.content;
      if (typeof content !== 'string') {
        throw new HubError('PROVIDER_MALFORMED_OUTPUT', `OpenAI ${operation} returned no message content`, {
          where: { operation },
        });
      }
      return content;
    } catch (err) {
      throw mapOpenAiError(err, operation);
    }
  };

  return {
    name: 'openai',
    model: options.model,
    async describe(image, analyzeOptions) {
      const instruction =
        analyzeOptions.prompt ??
        'Describe this image in two or three factual sentences. Do not guess what you cannot see.';
      const text = await ask('image.describe', image, instruction, {}, analyzeOptions);
      return { status: 'succeeded', text: text.trim(), reason: null };
    },
    async objects(image, analyzeOptions) {
      const content = await ask(
        'image.objects',
        image,
        'List the distinct objects visible in this image with a confidence and a bounding box.',
        {
          response_format: {
            type: 'json_schema',
            json_schema: { name: 'detected_objects', strict: true, schema: objectsJsonSchema },
          },
        },
        analyzeOptions,
      );
      const { objects } = parseModelJson(content, objectsSchema, 'image.objects');
      return { status: 'succeeded', objects, reason: null };
    },
    async text(image, analyzeOptions) {
      const language = analyzeOptions.language
        ? ` The text is in language "${analyzeOptions.language}".`
        : '';
      const text = await ask(
        'image.text',
        image,
        `Transcribe all text in this image exactly. Keep line breaks; separate paragraphs with a blank line. Output only the text, nothing else; output nothing if there is no text.${language}`,
        {},
        analyzeOptions,
      );
      return { status: 'succeeded', text: text.trim(), confidence: null, reason: null };
    },
    async close() {},
  };
}
