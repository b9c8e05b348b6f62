import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkableCredentials,
  createLdapDirectory,
  createLocalUsersDirectory,
  type Directory,
  maxCredentialLength,
  upsertLocalUser,
} from '../../security/index.ts';
import { type TestLdap, useTestLdap } from '../support/ldap.ts';

/**
 * Both directories check the credentials they are handed before anything else
 * (`checkableCredentials`): an empty password would be an anonymous ("unauthenticated") LDAP
 * bind, and an oversized one should not reach the server or the hash. The HTTP login refuses
 * both earlier (400), and OpenLDAP refuses unauthenticated binds by default; the directories do
 * not rely on either.
 */
describe('directories refuse credentials they must not check', () => {
  let ldap: TestLdap;
  let dir: string;
  const directories: Array<[string, () => Directory]> = [];
  beforeAll(async () => {
    ldap = await useTestLdap();
    dir = await mkdtemp(join(tmpdir(), 'tributary-directories-'));
    const usersFile = join(dir, 'users.json');
    await upsertLocalUser(usersFile, 'bob', 'bob-secret-2', ['analysts']);
    directories.push(['ldap', () => createLdapDirectory({ url: ldap.url })]);
    directories.push(['local users', () => createLocalUsersDirectory(usersFile)]);
  });
  afterAll(async () => {
    await ldap?.release();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('accepts the right password, and refuses an empty or oversized one and an empty user name', async () => {
    for (const [name, make] of directories) {
      const directory = make();
      expect((await directory.authenticate('bob', 'bob-secret-2'))?.name, name).toBe('bob');
      expect(await directory.authenticate('bob', ''), name).toBeUndefined();
      expect(await directory.authenticate('', 'bob-secret-2'), name).toBeUndefined();
      expect(await directory.authenticate('bob', 'x'.repeat(maxCredentialLength + 1)), name).toBeUndefined();
      expect(
        await directory.authenticate('b'.repeat(maxCredentialLength + 1), 'bob-secret-2'),
        name,
      ).toBeUndefined();
    }
  });

  it('checkableCredentials: both given, neither over the limit', () => {
    expect(checkableCredentials('bob', 'pw')).toBe(true);
    expect(checkableCredentials('bob', '')).toBe(false);
    expect(checkableCredentials('', 'pw')).toBe(false);
    expect(checkableCredentials('bob', 'x'.repeat(maxCredentialLength))).toBe(true);
    expect(checkableCredentials('bob', 'x'.repeat(maxCredentialLength + 1))).toBe(false);
    expect(checkableCredentials('b'.repeat(maxCredentialLength + 1), 'pw')).toBe(false);
  });
});
