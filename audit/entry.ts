import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { z } from 'zod';

/**
 * The shapes stored in an audit chain and the hashing rules over them. An entry's plain fields
 * say what happened (so `show` and `verify` work without the key); the sensitive body
 * (details, argument digest, data subject) is only stored AES-256-GCM encrypted.
 */

export const outcomes = ['succeeded', 'failed', 'denied'] as const;
export type Outcome = (typeof outcomes)[number];

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 hex digest');

export const sourcePositionSchema = z.object({
  topic: z.string(),
  partition: z.number().int().nonnegative(),
  /** Kafka offsets are int64; kept as a decimal string. */
  offset: z.string().regex(/^\d+$/),
});
export type SourcePosition = z.infer<typeof sourcePositionSchema>;

export const auditEntrySchema = z.strictObject({
  seq: z.number().int().positive(),
  time: z.string(),
  action: z.string(),
  actor: z.string(),
  resource: z.string(),
  outcome: z.enum(outcomes),
  component: z.string(),
  correlationId: z.string().nullable(),
  source: sourcePositionSchema,
  eventId: z.string(),
  keyId: z.string(),
  subjectKeyId: z.string().nullable(),
  nonce: z.string(),
  ciphertext: z.string(),
  tag: z.string(),
  prevHash: hex64,
  hash: hex64,
});
/** One stored entry; `hash` covers every other field (ciphertext, not plaintext). */
export type AuditEntry = z.infer<typeof auditEntrySchema>;

export const checkpointSchema = z.strictObject({
  chain: z.string(),
  seq: z.number().int().nonnegative(),
  headHash: hex64,
  time: z.string(),
  signingKeyId: z.string(),
  signature: z.string(),
});
/** A signed statement "chain X had N entries ending in hash H at time T". */
export type Checkpoint = z.infer<typeof checkpointSchema>;

/** The encrypted part of an entry. */
export interface SensitiveBody {
  argsDigest: string | null;
  subjectId: string | null;
  details: Record<string, string>;
}

/** What the consumer hands the chain for one action event. */
export interface ActionRecord {
  eventId: string;
  /** When the action happened (envelope.time), ms since epoch. */
  time: number;
  component: string;
  correlationId: string | null;
  action: string;
  actor: string;
  resource: string;
  outcome: Outcome;
  argsDigest: string | null;
  subjectId: string | null;
  details: Record<string, string>;
  source: SourcePosition;
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** RFC 8785 canonical JSON; our values are always serialisable. */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new Error('value has no canonical JSON form');
  return text;
}

/** The hash the first entry of a chain links to: binds the chain id so chains cannot be swapped by renaming. */
export function genesisHash(chainId: string): string {
  return sha256Hex(`tributary.audit.genesis:${chainId}`);
}

/**
 * Entry hash = SHA-256 over the RFC 8785 JSON of the stored entry without `hash`. That object
 * holds `prevHash`, so the hash covers the previous hash and every stored byte of this entry.
 */
export function entryHash(entry: Omit<AuditEntry, 'hash'> | AuditEntry): string {
  const { hash: _ignored, ...rest } = entry as AuditEntry;
  return sha256Hex(canonicalJson(rest));
}

/** The bytes a checkpoint signature covers. */
export function checkpointPayload(cp: Omit<Checkpoint, 'signature'> | Checkpoint): Buffer {
  return Buffer.from(
    canonicalJson({
      chain: cp.chain,
      seq: cp.seq,
      headHash: cp.headHash,
      time: cp.time,
      signingKeyId: cp.signingKeyId,
    }),
  );
}
