import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubError } from '../../core/errors.ts';
import { analyzeImage } from '../../processors/image/analyze.ts';
import { createOpenAiImageProvider, objectsJsonSchema } from '../../processors/image/openai-provider.ts';
import { createOpenAiClient } from '../../processors/shared/openai-client.ts';
import { chatAnswer, json, startOpenAiTestServer } from './openai-test-server.ts';

type ChatBody = {
  model: string;
  messages: { role: string; content: { type: string; text?: string; image_url?: { url: string } }[] }[];
  response_format?: { type: string; json_schema: { name: string; strict: boolean; schema: unknown } };
};

describe('OpenAI image provider against an OpenAI-compatible server', () => {
  let server: Awaited<ReturnType<typeof startOpenAiTestServer>>;
  let provider: ReturnType<typeof createOpenAiImageProvider>;
  let image: Buffer;
  const model = `vision-test-${Math.random().toString(36).slice(2, 8)}`;

  beforeAll(async () => {
    server = await startOpenAiTestServer();
    const client = createOpenAiClient({ apiKey: 'test-key', baseURL: server.baseURL, timeoutMs: 2000 });
    provider = createOpenAiImageProvider(client, { model, timeoutMs: 1500 });
    image = await sharp({ create: { width: 2000, height: 1500, channels: 3, background: '#336699' } })
      .png()
      .toBuffer();
  });
  afterAll(() => server.close());

  it('sends the model and a data-URI JPEG, and reads describe, objects and text', async () => {
    const before = server.requests.length;
    // The three analyses run concurrently, so answer by what each request asks.
    for (let i = 0; i < 3; i++) {
      server.next((req, res) => {
        const body = req.json as ChatBody;
        if (body.response_format) {
          chatAnswer(
            JSON.stringify({
              objects: [{ name: 'blue square', confidence: 0.9, box: { x: 0, y: 0, width: 1, height: 1 } }],
            }),
          )(req, res);
        } else if (body.messages[0]!.content[0]!.text!.startsWith('Transcribe')) {
          chatAnswer('no text here')(req, res);
        } else {
          chatAnswer('A flat blue rectangle.')(req, res);
        }
      });
    }
    const result = await analyzeImage(image, ['all'], provider);
    expect(result.describe).toEqual({ status: 'succeeded', text: 'A flat blue rectangle.', reason: null });
    expect(result.objects?.objects).toEqual([
      { name: 'blue square', confidence: 0.9, box: { x: 0, y: 0, width: 1, height: 1 } },
    ]);
    expect(result.text?.text).toBe('no text here');
    const sent = server.requests.slice(before);
    expect(sent).toHaveLength(3);
    for (const req of sent) {
      expect(req.path).toBe('/v1/chat/completions');
      expect(req.headers.authorization).toBe('Bearer test-key');
      const body = req.json as ChatBody;
      expect(body.model).toBe(model);
      const url = body.messages[0]!.content.find((c) => c.type === 'image_url')!.image_url!.url;
      expect(url.startsWith('data:image/jpeg;base64,')).toBe(true);
      const meta = await sharp(Buffer.from(url.slice('data:image/jpeg;base64,'.length), 'base64')).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 1024, 768]);
    }
    const objectsRequest = sent.map((r) => r.json as ChatBody).find((b) => b.response_format)!;
    expect(objectsRequest.response_format).toEqual({
      type: 'json_schema',
      json_schema: { name: 'detected_objects', strict: true, schema: objectsJsonSchema },
    });
  });

  it('maps 429 with Retry-After to a retriable rate-limit error', async () => {
    server.next(json(429, { error: { message: 'slow down', type: 'rate_limit' } }, { 'retry-after': '7' }));
    const err = (await analyzeImage(image, ['describe'], provider).catch((e: unknown) => e)) as HubError;
    expect(err).toBeInstanceOf(HubError);
    expect(err.code).toBe('PROVIDER_RATE_LIMITED');
    expect(err.retriable).toBe(true);
    expect(err.where.retryAfterMs).toBe(7000);
  });

  it('maps 500 to a retriable server error', async () => {
    server.next(json(500, { error: { message: 'boom' } }));
    const err = (await analyzeImage(image, ['text'], provider).catch((e: unknown) => e)) as HubError;
    expect([err.code, err.retriable]).toEqual(['PROVIDER_SERVER_ERROR', true]);
  });

  it('times out a server that does not answer', async () => {
    server.next(() => {
      // never answers; the provider's timeout must end the call
    });
    const err = (await analyzeImage(image, ['describe'], provider).catch((e: unknown) => e)) as HubError;
    expect([err.code, err.retriable]).toEqual(['PROVIDER_TIMEOUT', true]);
  });

  it('reports malformed JSON output as a failed analysis, not invented objects', async () => {
    server.next(chatAnswer('{"objects": [ not json'));
    const result = await analyzeImage(image, ['objects'], provider);
    expect(result.objects?.status).toBe('failed');
    expect(result.objects?.objects).toEqual([]);
    expect(result.objects?.reason).toContain('PROVIDER_MALFORMED_OUTPUT');
    server.next(chatAnswer(JSON.stringify({ objects: [{ name: 'x' }] })));
    const wrongShape = await analyzeImage(image, ['objects'], provider);
    expect(wrongShape.objects?.reason).toContain('does not fit the schema');
  });

  it('handles a response body that is not JSON at all', async () => {
    server.next((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"choices": [');
    });
    const err = (await provider
      .describe(
        {
          jpeg: Buffer.alloc(1),
          width: 1,
          height: 1,
          facts: {
            width: 1,
            height: 1,
            format: 'png',
            orientation: null,
            hasAlpha: false,
            dominantColours: [],
            exif: {},
          },
        },
        {},
      )
      .catch((e: unknown) => e)) as HubError;
    expect(err).toBeInstanceOf(HubError);
    expect(err.code).toBe('PROVIDER_MALFORMED_RESPONSE');
  });
});
