import { Redis } from 'ioredis';
import { Client, InvalidCredentialsError } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLdapKit, defaultTestDirectory, ldapGroupsDn, ldapPeopleDn } from '../../kit/ldap.ts';
import { createRedisKit, portAcceptsConnections } from '../../kit/redis.ts';

describe('local Redis kit', () => {
  const kit = createRedisKit();
  afterAll(() => kit.stop());

  it('starts redis-server on a free port, answers commands, and stops it', async () => {
    const { url, port } = await kit.start();
    expect(await kit.start()).toEqual({ url, port });
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    await redis.connect();
    await redis.set('kit:probe', 'value');
    expect(await redis.get('kit:probe')).toBe('value');
    redis.disconnect();
    await kit.stop();
    await kit.stop();
    expect(await portAcceptsConnections(port)).toBe(false);
  });
});

describe('local OpenLDAP kit', () => {
  const kit = createLdapKit();
  let url = '';
  beforeAll(async () => {
    url = (await kit.start()).url;
  });
  afterAll(() => kit.stop());

  it('lets each test user bind with their password and refuses a wrong one', async () => {
    for (const user of defaultTestDirectory.users) {
      const client = new Client({ url });
      await client.bind(`uid=${user.uid},${ldapPeopleDn}`, user.password);
      await client.unbind();
    }
    const client = new Client({ url });
    await expect(client.bind(`uid=alice,${ldapPeopleDn}`, 'wrong')).rejects.toBeInstanceOf(
      InvalidCredentialsError,
    );
  });

  it('holds the groups with member DNs, and hides password hashes from other users', async () => {
    const client = new Client({ url });
    await client.bind(`uid=bob,${ldapPeopleDn}`, 'bob-secret-2');
    const { searchEntries } = await client.search(ldapGroupsDn, { filter: '(objectClass=groupOfNames)' });
    const groups = Object.fromEntries(searchEntries.map((e) => [e.cn, e.member]));
    expect(groups).toEqual({ admins: `uid=alice,${ldapPeopleDn}`, analysts: `uid=bob,${ldapPeopleDn}` });
    const alice = await client.search(`uid=alice,${ldapPeopleDn}`, {
      scope: 'base',
      attributes: ['userPassword', 'cn'],
    });
    expect(alice.searchEntries[0]?.cn).toBe('Alice Admin');
    // ldapts reports an attribute it may not read as empty.
    expect([alice.searchEntries[0]?.userPassword ?? []].flat()).toEqual([]);
    await client.unbind();
  });
});
