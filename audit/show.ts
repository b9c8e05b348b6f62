import { HubError } from '../core/errors.ts';
import { decryptEntry } from './decrypt.ts';
import { type AuditEntry, auditEntrySchema, type SensitiveBody } from './entry.ts';
import type { AuditKeyRing } from './keys.ts';
import type { AuditStore } from './store.ts';
import type { SubjectKeyStore } from './subject-keys.ts';

/** Filters for `tributary audit show`. */
export interface ShowFilter {
  actor?: string | undefined;
  /** Only entries at or after this time (ms since epoch). */
  since?: number | undefined;
  chains?: string[] | undefined;
  /** Decrypt bodies with these keys. */
  decrypt?: { keys: AuditKeyRing; subjectKeys: SubjectKeyStore } | undefined;
}

export interface ShownEntry {
  chain: string;
  entry: AuditEntry;
  /** The decrypted body, 'forgotten' after crypto-shredding, or undefined without --decrypt. */
  body?: SensitiveBody | 'forgotten';
}

/** Entries of every chain in order, filtered; throws on a malformed line (verify says more). */
export async function* readAuditEntries(
  store: AuditStore,
  filter: ShowFilter = {},
): AsyncIterable<ShownEntry> {
  const chains = filter.chains ?? (await store.chainIds());
  for (const chain of chains) {
    for await (const record of store.readEntries(chain)) {
      const parsed = auditEntrySchema.safeParse(record.value);
      if (!parsed.success) {
        throw new HubError('AUDIT_SEGMENT_CORRUPT', 'entry is malformed', {
          where: { file: record.file, line: record.line },
          hint: 'run `tributary audit verify` to locate the damage',
        });
      }
      const entry = parsed.data;
      if (filter.actor !== undefined && entry.actor !== filter.actor) continue;
      if (filter.since !== undefined && Date.parse(entry.time) < filter.since) continue;
      if (!filter.decrypt) {
        yield { chain, entry };
        continue;
      }
      const body = decryptEntry(chain, entry, filter.decrypt.keys, filter.decrypt.subjectKeys);
      yield { chain, entry, body: 'forgottenAt' in body ? 'forgotten' : body.body };
    }
  }
}
