import { createHash } from 'node:crypto';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';

/**
 * Idempotent tool calls: a client that retries a call (its bridge died mid-call, the connection
 * dropped) sends the same key, and the retry publishes the same command id. The working
 * components take the command id as their idempotency key (a connector sends it to the external
 * system as `Idempotency-Key`), so the retry is answered without doing the work twice.
 */

/** Where a client puts the key: `params._meta["tributary/idempotencyKey"]`, or the HTTP header. */
export const IDEMPOTENCY_META_KEY = 'tributary/idempotencyKey';
const MAX_KEY_LENGTH = 200;

/** Namespace of command ids derived from idempotency keys (a fixed random UUID). */
const CALL_ID_NAMESPACE = '3b0f5a52-8d5e-4c1b-a7e2-59c6f0d1e8a4';

/** RFC 9562 UUIDv5 of `name` in the bridge's namespace: same input, same id. */
function uuidV5(name: string): string {
  const ns = Buffer.from(CALL_ID_NAMESPACE.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const h = hash.subarray(0, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** The caller's idempotency key of a tools/call, if any; a malformed one is an InvalidParams error. */
export function idempotencyKeyOf(
  meta: Record<string, unknown> | undefined,
  headers: Record<string, string | string[] | undefined> | undefined,
): string | undefined {
  const header = headers?.['idempotency-key'];
  const value = meta?.[IDEMPOTENCY_META_KEY] ?? (Array.isArray(header) ? header[0] : header);
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_KEY_LENGTH)
    throw new McpError(
      ErrorCode.InvalidParams,
      `${IDEMPOTENCY_META_KEY} must be a string of 1 to ${MAX_KEY_LENGTH} characters`,
    );
  return value;
}

/** The command id of a keyed call: one per caller, tool and key (another caller's key never collides). */
export function commandIdFor(subject: string, tool: string, key: string): string {
  return uuidV5(`mcp.tool.call\u0000${subject}\u0000${tool}\u0000${key}`);
}
