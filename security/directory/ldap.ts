import { Client, InvalidCredentialsError, NoSuchObjectError } from 'ldapts';
import { z } from 'zod';
import { HubError } from '../../core/errors.ts';
import type { Directory, DirectoryUser } from './directory.ts';
import { checkableCredentials } from './directory.ts';
import { escapeDnValue, escapeFilterValue } from './escape.ts';

/**
 * LDAP directory: binds as the user (DN from a template, value escaped per RFC 4514), reads the
 * entry's canonical user name, then searches the user's groups with the user's own rights
 * (filter value escaped per RFC 4515). No service account is needed.
 */

export const ldapDirectoryConfig = z.object({
  url: z.string().describe('LDAP server URL, e.g. ldap://ldap.example:389 or ldaps://...'),
  userDnTemplate: z
    .string()
    .default('uid={user},ou=people,dc=tributary,dc=test')
    .describe('DN of a user; {user} is replaced by the escaped user name'),
  userNameAttribute: z.string().default('uid').describe('Attribute holding the canonical user name'),
  groupsBaseDn: z.string().default('ou=groups,dc=tributary,dc=test').describe('Where groups are searched'),
  groupFilter: z
    .string()
    .default('(&(objectClass=groupOfNames)(member={dn}))')
    .describe('Filter for the groups of a user; {dn} is replaced by the escaped user DN'),
  groupNameAttribute: z.string().default('cn').describe('Attribute holding a group name'),
  timeoutMs: z.number().int().positive().default(5000).describe('Timeout of each LDAP operation'),
});
export type LdapDirectoryConfig = z.infer<typeof ldapDirectoryConfig>;

function firstValue(value: unknown): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined) return undefined;
  return Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
}

/** Builds an LDAP-backed directory. */
export function createLdapDirectory(input: z.input<typeof ldapDirectoryConfig>): Directory {
  const config = ldapDirectoryConfig.parse(input);
  return {
    async authenticate(username, password): Promise<DirectoryUser | undefined> {
      // An empty password would be an LDAP "unauthenticated bind", which succeeds anonymously.
      if (!checkableCredentials(username, password)) return undefined;
      const userDn = config.userDnTemplate.replace('{user}', () => escapeDnValue(username));
      const client = new Client({
        url: config.url,
        timeout: config.timeoutMs,
        connectTimeout: config.timeoutMs,
      });
      try {
        try {
          await client.bind(userDn, password);
        } catch (err) {
          if (err instanceof InvalidCredentialsError || err instanceof NoSuchObjectError) return undefined;
          // Malformed DNs and the like are the caller's fault: treat as wrong credentials.
          if ((err as { code?: number }).code !== undefined && (err as { code: number }).code < 80)
            return undefined;
          throw err;
        }
        const self = await client.search(userDn, { scope: 'base', attributes: [config.userNameAttribute] });
        const name = firstValue(self.searchEntries[0]?.[config.userNameAttribute]) ?? username;
        const filter = config.groupFilter.replace('{dn}', () => escapeFilterValue(userDn));
        const { searchEntries } = await client.search(config.groupsBaseDn, {
          scope: 'sub',
          filter,
          attributes: [config.groupNameAttribute],
        });
        const groups = searchEntries
          .map((entry) => firstValue(entry[config.groupNameAttribute]))
          .filter((g): g is string => g !== undefined);
        return { name, groups: [...new Set(groups)].sort() };
      } catch (err) {
        throw new HubError(
          'DIRECTORY_UNAVAILABLE',
          `LDAP directory at ${config.url} failed: ${(err as Error).message}`,
          {
            retriable: true,
            hint: 'check that the LDAP server runs and LDAP_URL points at it',
            cause: err,
          },
        );
      } finally {
        await client.unbind().catch(() => undefined);
      }
    },
  };
}
