import { createHash, randomUUID } from 'node:crypto';
import canonicalize from 'canonicalize';
import { HubError } from '../core/errors.ts';
import type { EventProducer } from '../platform/index.ts';
import { type HubEvent, newEnvelope, type Serde } from '../schemas/index.ts';
import type { BridgeIdentity } from '../security/index.ts';
import type { IdempotencyRecords, StoredReply } from './idempotency.ts';
import { type IngressType, subjectOf } from './ingress-types.ts';

/**
 * One pushed event: the JSON body is the event's `data`; the ingress wraps it in an envelope
 * whose actor is the verified caller (the token itself goes nowhere), validates it against the
 * type's Avro schema, honours the Idempotency-Key, and publishes it with the platform producer.
 *
 * Error codes (HubError):
 * - INGRESS_INVALID_BODY (400): the body is no JSON object or does not fit the schema;
 *   `where.field` is the offending path inside the body (`annualRevenue`, `analyses.0`).
 * - INGRESS_BAD_IDEMPOTENCY_KEY (400): the key is empty, longer than 255 or not printable ASCII.
 * - INGRESS_IDEMPOTENCY_MISMATCH (422): the key was used before with a different body.
 * - INGRESS_IDEMPOTENCY_IN_PROGRESS (409, retriable): a request with this key is still publishing.
 */

export interface PublishRequest {
  type: IngressType;
  identity: BridgeIdentity;
  body: unknown;
  idempotencyKey?: string;
  correlationId?: string;
  traceparent?: string;
}

export interface PublishResult {
  reply: StoredReply;
  /** True when the reply comes from an earlier request with the same Idempotency-Key. */
  replayed: boolean;
}

export interface PublishDeps {
  serde: Serde;
  producer: EventProducer;
  idempotency: IdempotencyRecords;
  /** envelope.source of pushed events. */
  source: string;
}

/** Serde paths are `data.<field>`: the client sent the data alone, so name the field within it. */
function bodyPath(path: string | undefined): string {
  return (path ?? '').replace(/^data\.?/, '');
}

function invalidBody(message: string, field: string, cause?: unknown): HubError {
  return new HubError('INGRESS_INVALID_BODY', message, {
    where: { field },
    hint: 'fix the named field; GET /openapi.json describes every type',
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Validates `value` by encoding it with the type's schema (the serde names the first bad field). */
async function validate(serde: Serde, type: IngressType, event: HubEvent<unknown>): Promise<void> {
  try {
    await serde.encode(type.topic, type.schema, event);
  } catch (err) {
    if (err instanceof HubError && err.code === 'SERDE_INVALID') {
      const field = bodyPath(String(err.where.field ?? ''));
      const reasons = err.message.replace(/^value for \S+ v\d+ is invalid: /, '');
      const list = reasons.replace(/(^|; )data\.?/g, '$1');
      throw invalidBody(`${type.name}: ${list}`, field, err);
    }
    throw err;
  }
}

function checkIdempotencyKey(key: string): void {
  if (key.length === 0 || key.length > 255 || !/^[\x21-\x7e]+$/.test(key)) {
    throw new HubError(
      'INGRESS_BAD_IDEMPOTENCY_KEY',
      'Idempotency-Key must be 1 to 255 printable ASCII characters without spaces',
      { hint: 'use a UUID per logical request' },
    );
  }
}

/** Digest of the body independent of key order and whitespace (RFC 8785). */
function bodyDigest(body: unknown): string {
  return createHash('sha256')
    .update(canonicalize(body) ?? '')
    .digest('hex');
}

/** Publishes one pushed event (see the file comment for what can go wrong). */
export async function publishIngressEvent(
  deps: PublishDeps,
  request: PublishRequest,
): Promise<PublishResult> {
  const { type, body } = request;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidBody(`the body of a ${type.name} event must be a JSON object (its data)`, '');
  }
  const data = body as Record<string, unknown>;
  const id = randomUUID();
  const event: HubEvent<unknown> = {
    envelope: newEnvelope({
      id,
      type: type.schema,
      source: deps.source,
      subject: subjectOf(type, data, id),
      // Only the verified identity travels on; the token stayed at the HTTP edge.
      actor: request.identity.sub,
      correlationId: request.correlationId ?? id,
    }),
    data,
  };
  await validate(deps.serde, type, event);

  const key = request.idempotencyKey;
  let scopedKey: string | undefined;
  let digest = '';
  if (key !== undefined) {
    checkIdempotencyKey(key);
    // Per caller and type: two systems choosing the same key never see each other's events.
    scopedKey = `${request.identity.sub}\u0000${type.name}\u0000${key}`;
    digest = bodyDigest(body);
    const reservation = await deps.idempotency.reserve(scopedKey, digest, id);
    if (reservation.state === 'replay') return { reply: reservation.reply, replayed: true };
    if (reservation.state === 'mismatch') {
      throw new HubError(
        'INGRESS_IDEMPOTENCY_MISMATCH',
        'this Idempotency-Key was already used with a different body',
        { hint: 'use a new key for a new event; resend the identical body to get the first answer' },
      );
    }
    if (reservation.state === 'in-progress') {
      throw new HubError(
        'INGRESS_IDEMPOTENCY_IN_PROGRESS',
        'a request with this Idempotency-Key is still being published',
        { retriable: true, hint: 'retry in a moment' },
      );
    }
  }
  let reply: StoredReply;
  try {
    const [meta] = await deps.producer.publish(
      type.topic,
      [event],
      request.traceparent ? { traceparent: request.traceparent } : {},
    );
    if (!meta)
      throw new HubError('INGRESS_PUBLISH_FAILED', 'the broker acknowledged nothing', { retriable: true });
    reply = { id, topic: meta.topic, partition: meta.partition, offset: meta.baseOffset };
  } catch (err) {
    if (scopedKey) await deps.idempotency.release(scopedKey, id).catch(() => undefined);
    throw err;
  }
  if (scopedKey) await deps.idempotency.complete(scopedKey, digest, reply);
  return { reply, replayed: false };
}
