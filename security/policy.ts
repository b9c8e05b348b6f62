import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { HubError } from '../core/errors.ts';

/**
 * Who may call which tool: directory groups map to roles, roles to tool-name patterns.
 * A pattern is a tool name, `*` (every tool), or a name with `*` wildcards (`crm.*`).
 * The policy is read from a YAML or JSON file; permissions are checked at each request from
 * the roles in the verified token, so a changed policy applies on the next call.
 */

export const policySchema = z.object({
  groups: z
    .record(z.string(), z.array(z.string()))
    .default({})
    .describe('Directory group name -> roles it grants'),
  roles: z
    .record(z.string(), z.array(z.string()))
    .default({})
    .describe('Role -> tool-name patterns it allows (`*` for all)'),
});
export type PolicyDocument = z.infer<typeof policySchema>;

export interface Policy {
  /** Roles granted by a user's groups (sorted, unique). */
  rolesFor(groups: string[]): string[];
  /** True when any of `roles` allows `tool`. */
  allows(roles: string[], tool: string): boolean;
  readonly document: PolicyDocument;
}

/** The policy a hub uses when none is configured: admins do everything, analysts read. */
export const defaultPolicy: PolicyDocument = {
  groups: { admins: ['admin'], analysts: ['analyst'], operators: ['operator'] },
  roles: {
    admin: ['*'],
    operator: ['topics.list', 'events.read', 'connectors.status', 'audit.verify', 'hub.*'],
    analyst: [
      '*.lookup',
      '*.get',
      '*.search',
      'image.analyze',
      'audio.transcribe',
      'chart.render',
      'topics.list',
      'hub.whoami',
    ],
  },
};

function patternToRegExp(pattern: string): RegExp {
  const escaped = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`);
}

/** Builds a policy from a parsed document. */
export function createPolicy(input: z.input<typeof policySchema>): Policy {
  const document = policySchema.parse(input);
  const compiled = new Map(
    Object.entries(document.roles).map(([role, patterns]) => [role, patterns.map(patternToRegExp)] as const),
  );
  return {
    document,
    rolesFor(groups) {
      return [
        ...new Set(
          groups.flatMap((g) => (Object.hasOwn(document.groups, g) ? (document.groups[g] ?? []) : [])),
        ),
      ].sort();
    },
    allows(roles, tool) {
      return roles.some((role) => (compiled.get(role) ?? []).some((re) => re.test(tool)));
    },
  };
}

/** Reads a policy file (YAML or JSON; JSON is YAML too). */
export async function loadPolicy(path: string): Promise<Policy> {
  let raw: unknown;
  try {
    raw = parseYaml(await readFile(path, 'utf8'));
  } catch (err) {
    throw new HubError('CONFIG_INVALID', `cannot read the bridge policy ${path}: ${(err as Error).message}`, {
      where: { file: path },
      cause: err,
    });
  }
  const parsed = policySchema.safeParse(raw);
  if (!parsed.success) {
    throw new HubError('CONFIG_INVALID', `bridge policy ${path} is malformed: ${parsed.error.message}`, {
      where: { file: path },
      hint: 'expected `groups: {group: [role]}` and `roles: {role: [tool pattern]}`',
    });
  }
  return createPolicy(parsed.data);
}
