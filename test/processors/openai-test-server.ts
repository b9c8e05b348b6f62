import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Parsed body when it is JSON. */
  json: unknown;
}

export type Responder = (req: RecordedRequest, res: ServerResponse) => void;

/**
 * A small OpenAI-compatible HTTP server for tests: it records every request and answers with
 * the next queued responder, so a test checks the exact request shape a provider sends and
 * how it handles each kind of answer.
 */
export async function startOpenAiTestServer() {
  const requests: RecordedRequest[] = [];
  const responders: Responder[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let json: unknown;
      if (String(req.headers['content-type'] ?? '').includes('application/json')) {
        json = JSON.parse(body.toString('utf8'));
      }
      const recorded = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, json };
      requests.push(recorded);
      const responder = responders.shift();
      if (!responder) {
        res
          .writeHead(500, { 'content-type': 'application/json' })
          .end('{"error":{"message":"no responder"}}');
        return;
      }
      responder(recorded, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    /** Queues the answer to the next request. */
    next(responder: Responder) {
      responders.push(responder);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Responder =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  };

/** A chat completion whose single message has `content`. */
export const chatAnswer = (content: string): Responder =>
  json(200, {
    id: 'chatcmpl-test',
    object: 'chat.completion',
    created: 1,
    model: 'test',
    choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content } }],
  });

/** Parses a multipart/form-data body the way a server would. */
export async function parseMultipart(req: RecordedRequest): Promise<FormData> {
  return new Request('http://localhost/', {
    method: 'POST',
    headers: { 'content-type': String(req.headers['content-type']) },
    body: new Uint8Array(req.body),
  }).formData();
}
