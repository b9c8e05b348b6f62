import type { IncomingMessage, ServerResponse } from 'node:http';
import { HubError } from '../core/errors.ts';

/** Small HTTP helpers of the bridge: bounded body reading, JSON replies, error -> status mapping. */

/** Reads a request body of at most `limit` bytes; throws HTTP_BODY_TOO_LARGE (413) beyond it. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  const tooLarge = () =>
    new HubError('HTTP_BODY_TOO_LARGE', `request body larger than ${limit} bytes`, {
      hint: 'send a smaller request',
    });
  if (Number.isFinite(declared) && declared > limit) {
    // Drain nothing: the connection is closed after the reply.
    req.resume();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.resume();
      throw tooLarge();
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Parses a JSON body; throws HTTP_BAD_JSON (400) when it is not JSON. */
export function parseJsonBody(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new HubError('HTTP_BAD_JSON', 'request body is not valid JSON', { cause: err });
  }
}

/** Sends a JSON reply. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

const statusByCode: Record<string, number> = {
  AUTH_TOKEN_MISSING: 401,
  AUTH_TOKEN_INVALID: 401,
  AUTH_TOKEN_EXPIRED: 401,
  AUTH_TOKEN_NOT_YET_VALID: 401,
  AUTH_SESSION_REVOKED: 401,
  AUTH_LOGIN_FAILED: 401,
  AUTH_REFRESH_INVALID: 401,
  AUTH_FORBIDDEN: 403,
  RATE_LIMITED: 429,
  HTTP_BODY_TOO_LARGE: 413,
  HTTP_BAD_JSON: 400,
  HTTP_BAD_REQUEST: 400,
  HTTP_NOT_FOUND: 404,
  HTTP_METHOD_NOT_ALLOWED: 405,
  HTTP_UNSUPPORTED_MEDIA_TYPE: 415,
  DIRECTORY_UNAVAILABLE: 503,
};

/** The HTTP status a HubError code maps to (500 for anything unexpected). */
export function httpStatusFor(err: HubError): number {
  return statusByCode[err.code] ?? (err.retriable ? 503 : 500);
}

/** Sends a HubError as `{ error: { code, message } }`; internal details stay in the log. */
export function sendHubError(res: ServerResponse, err: HubError, headers: Record<string, string> = {}): void {
  const status = httpStatusFor(err);
  const message = status >= 500 ? 'internal error; see the bridge log' : err.message;
  const extra: Record<string, string> = status === 413 ? { connection: 'close' } : {};
  sendJson(
    res,
    status,
    { error: { code: err.code, message, ...(err.hint && status < 500 ? { hint: err.hint } : {}) } },
    {
      ...extra,
      ...headers,
    },
  );
}
