import { HubError } from '../core/errors.ts';
import type { AuditEntry, SensitiveBody } from './entry.ts';
import { openBody } from './entry-crypto.ts';
import type { AuditKeyRing } from './keys.ts';
import type { SubjectKeyStore } from './subject-keys.ts';

/** The readable body of an entry, or why it cannot be read. */
export type DecryptedBody = { body: SensitiveBody } | { forgottenAt: string };

/**
 * Decrypts an entry's body. A subject whose key was forgotten gives `{ forgottenAt }`; a key id
 * that is not in the ring (AUDIT_KEY_UNKNOWN) or a failed authentication (AUDIT_DECRYPT_FAILED)
 * throws, because both mean the entry or the key file is not what it should be.
 */
export function decryptEntry(
  chainId: string,
  entry: AuditEntry,
  keys: AuditKeyRing,
  subjectKeys: SubjectKeyStore | undefined,
): DecryptedBody {
  let key: Buffer | undefined;
  if (entry.subjectKeyId !== null) {
    const found = subjectKeys?.keyById(entry.subjectKeyId);
    if (found && 'forgottenAt' in found) return { forgottenAt: found.forgottenAt };
    key = found?.key;
    if (!key) {
      throw new HubError(
        'AUDIT_KEY_UNKNOWN',
        `subject key ${entry.subjectKeyId} is not in the subject key store`,
        {
          where: { chain: chainId, seq: entry.seq },
          hint: 'point --dir at the audit folder holding subject-keys.json',
        },
      );
    }
  } else {
    key = keys.encryptionKeys.get(entry.keyId);
    if (!key) {
      throw new HubError('AUDIT_KEY_UNKNOWN', `encryption key ${entry.keyId} is not in the key ring`, {
        where: { chain: chainId, seq: entry.seq },
        hint: 'load the key file that holds this (older) key; rotate-key keeps old keys',
      });
    }
  }
  try {
    const aad = {
      chain: chainId,
      seq: entry.seq,
      prevHash: entry.prevHash,
      keyId: entry.keyId,
      subjectKeyId: entry.subjectKeyId,
      eventId: entry.eventId,
    };
    return { body: openBody(key, entry, aad) };
  } catch (err) {
    throw new HubError(
      'AUDIT_DECRYPT_FAILED',
      'entry does not decrypt: wrong key, or ciphertext, tag or bound fields (seq, prevHash, key id) altered',
      { where: { chain: chainId, seq: entry.seq }, cause: err },
    );
  }
}
