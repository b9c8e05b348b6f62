import { createHash } from 'node:crypto';

/** Namespace of Tributary's name-based event ids (a fixed random UUID). */
export const EVENT_ID_NAMESPACE = '6f1c3f0e-2b7a-4d0e-9a53-8c1d7e4b2f90';

/** RFC 9562 UUIDv5: SHA-1 of namespace + name. Same input, same id, on every machine. */
export function uuidV5(name: string, namespace: string = EVENT_ID_NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const h = hash.subarray(0, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * The id of a change event: derived from system, entity, key and the system's modification stamp,
 * so a change read twice (after a restart, an overlap window or a retry) gets the same id and
 * consumers drop the copy.
 */
export function changeEventId(system: string, entity: string, key: string, stamp: string | number): string {
  return uuidV5(`${system}\u0000${entity}\u0000${key}\u0000${stamp}`);
}
