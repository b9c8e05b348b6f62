/**
 * Topic naming conventions of the hub (see ARCHITECTURE.md "Events"). Names are checked without
 * the test-only prefix, so a test's `t1a2b3.crm.contact.changed` follows the same rules.
 */

/** What a topic is for, read from its name. */
export type TopicRole = 'event' | 'command' | 'request' | 'result' | 'hub' | 'state' | 'dlq' | 'retry';

const segment = /^[a-z][a-z0-9-]*$/;
const suffixRoles: Record<string, TopicRole> = { cmd: 'command', req: 'request', res: 'result' };
/** Suffixes the topology derives itself; a declaration never declares them. */
export const derivedSuffixes = ['dlq', 'retry'] as const;

export interface NameCheck {
  ok: boolean;
  role?: TopicRole;
  /** Why the name breaks the convention, when it does. */
  reason?: string;
}

/** Checks a declared (not derived) topic name against the convention and tells its role. */
export function checkTopicName(name: string): NameCheck {
  const parts = name.split('.');
  const [head] = parts;
  if (head === '_tributary' || head === 'hub') {
    const rest = parts.slice(1);
    if (rest.length === 0 || !rest.every((p) => segment.test(p))) {
      return { ok: false, reason: `"${head}." must be followed by lower-case dotted segments` };
    }
    return { ok: true, role: head === 'hub' ? 'hub' : 'state' };
  }
  if (!parts.every((p) => segment.test(p))) {
    return {
      ok: false,
      reason: 'segments are lower-case letters, digits and dashes, starting with a letter',
    };
  }
  const last = parts[parts.length - 1] ?? '';
  if ((derivedSuffixes as readonly string[]).includes(last)) {
    return {
      ok: false,
      reason: `".${last}" topics are derived by the topology; declare deadLetter/retry instead`,
    };
  }
  const suffixRole = suffixRoles[last];
  if (suffixRole) {
    if (parts.length !== 4) {
      return { ok: false, reason: `a ".${last}" topic is <domain>.<entity>.<action>.${last}` };
    }
    return { ok: true, role: suffixRole };
  }
  if (parts.length !== 3) return { ok: false, reason: 'an event topic is <domain>.<entity>.<event>' };
  return { ok: true, role: 'event' };
}

/** The first dotted segment of a declared topic name: its namespace for pruning. */
export function namespaceOf(name: string): string {
  return name.split('.')[0] ?? name;
}
