import { randomBytes } from 'node:crypto';

/**
 * A name no other test (or earlier run) uses: `<prefix>-<12 hex chars>`. Give every topic,
 * consumer group, transactional id and client id in a test its own, so tests can share one
 * broker, run in parallel and be re-run without cleaning up. Kafka topic names allow
 * [a-zA-Z0-9._-]; other characters in the prefix become '-'.
 */
export function uniqueName(prefix = 'test'): string {
  const safe = prefix.replace(/[^a-zA-Z0-9._-]/g, '-');
  return `${safe}-${randomBytes(6).toString('hex')}`;
}
