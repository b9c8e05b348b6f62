import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { decodeExportTraceRequest, type OtlpResourceSpans, type OtlpSpan } from './otlp-protobuf.ts';

/** One export request as the receiver got it. */
export interface ReceivedExport {
  path: string;
  contentType: string | undefined;
  body: OtlpResourceSpans[];
}

export interface OtlpReceiver {
  /** Base URL for OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string;
  received: ReceivedExport[];
  /** Every span of every request so far. */
  spans(): OtlpSpan[];
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
}

/** A collector's OTLP/HTTP traces endpoint on a free loopback port that accepts and keeps every request. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const received: ReceivedExport[] = [];
  const server = createServer((req, res) => {
    void readBody(req).then((body) => {
      received.push({
        path: req.url ?? '',
        contentType: req.headers['content-type'],
        body: decodeExportTraceRequest(body),
      });
      // An empty ExportTraceServiceResponse: everything accepted.
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    spans: () => received.flatMap((r) => r.body.flatMap((rs) => rs.scopes.flatMap((s) => s.spans))),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
