import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'ldapts';
import { HubError } from '../core/errors.ts';
import {
  ensureDebianPackages,
  freePort,
  spawnTracked,
  stopChild,
  type TrackedChild,
  waitUntilReady,
} from './redis.ts';

/**
 * A throwaway OpenLDAP directory for tests and demos: Debian's `slapd` on a free port with an
 * mdb database in a temporary folder, configured by a generated slapd.conf and loaded offline
 * with slapadd from an LDIF of people (ou=people) and groups (ou=groups, groupOfNames).
 */

const execFileAsync = promisify(execFile);

export interface DirectoryUser {
  uid: string;
  password: string;
  cn: string;
  mail?: string;
}

export interface DirectoryGroup {
  cn: string;
  /** uids of the members (the LDIF stores full member DNs). */
  members: string[];
}

export interface TestDirectory {
  users: DirectoryUser[];
  groups: DirectoryGroup[];
}

export const ldapBaseDn = 'dc=tributary,dc=test';
export const ldapPeopleDn = `ou=people,${ldapBaseDn}`;
export const ldapGroupsDn = `ou=groups,${ldapBaseDn}`;

/** The default test directory: alice is an admin, bob an analyst, carol in no group. */
export const defaultTestDirectory: TestDirectory = {
  users: [
    { uid: 'alice', password: 'alice-secret-1', cn: 'Alice Admin', mail: 'alice@tributary.test' },
    { uid: 'bob', password: 'bob-secret-2', cn: 'Bob Analyst', mail: 'bob@tributary.test' },
    { uid: 'carol', password: 'carol-secret-3', cn: 'Carol Nobody', mail: 'carol@tributary.test' },
  ],
  groups: [
    { cn: 'admins', members: ['alice'] },
    { cn: 'analysts', members: ['bob'] },
  ],
};

export interface LdapKitInfo {
  url: string;
  port: number;
  baseDn: string;
  peopleDn: string;
  groupsDn: string;
  managerDn: string;
  managerPassword: string;
}

export interface LdapKit {
  /** Writes the config, loads the directory and starts slapd (idempotent); resolves once a bind works. */
  start(): Promise<LdapKitInfo>;
  /** Stops slapd and removes its folder (safe to call twice). */
  stop(): Promise<void>;
  readonly info: LdapKitInfo | undefined;
}

/** `{SSHA}` hash as slapd stores it: base64(sha1(password + salt) + salt). */
export function sshaHash(password: string): string {
  const salt = randomBytes(8);
  const digest = createHash('sha1').update(password).update(salt).digest();
  return `{SSHA}${Buffer.concat([digest, salt]).toString('base64')}`;
}

/** The LDIF of a test directory (base, two OUs, people, groups). */
export function directoryLdif(directory: TestDirectory): string {
  const entries: string[] = [
    `dn: ${ldapBaseDn}\nobjectClass: dcObject\nobjectClass: organization\ndc: tributary\no: Tributary test`,
    `dn: ${ldapPeopleDn}\nobjectClass: organizationalUnit\nou: people`,
    `dn: ${ldapGroupsDn}\nobjectClass: organizationalUnit\nou: groups`,
  ];
  for (const user of directory.users) {
    const sn = user.cn.split(' ').at(-1) ?? user.uid;
    const lines = [
      `dn: uid=${user.uid},${ldapPeopleDn}`,
      'objectClass: inetOrgPerson',
      `uid: ${user.uid}`,
      `cn: ${user.cn}`,
      `sn: ${sn}`,
      `userPassword: ${sshaHash(user.password)}`,
    ];
    if (user.mail) lines.push(`mail: ${user.mail}`);
    entries.push(lines.join('\n'));
  }
  for (const group of directory.groups) {
    // groupOfNames needs at least one member; an empty group points at the base entry.
    const members =
      group.members.length > 0 ? group.members.map((uid) => `uid=${uid},${ldapPeopleDn}`) : [ldapBaseDn];
    entries.push(
      [`dn: cn=${group.cn},${ldapGroupsDn}`, 'objectClass: groupOfNames', `cn: ${group.cn}`]
        .concat(members.map((dn) => `member: ${dn}`))
        .join('\n'),
    );
  }
  return `${entries.join('\n\n')}\n`;
}

function slapdConf(dir: string, managerDn: string, managerPassword: string): string {
  return [
    'include /etc/ldap/schema/core.schema',
    'include /etc/ldap/schema/cosine.schema',
    'include /etc/ldap/schema/inetorgperson.schema',
    `pidfile ${join(dir, 'slapd.pid')}`,
    `argsfile ${join(dir, 'slapd.args')}`,
    'modulepath /usr/lib/ldap',
    'moduleload back_mdb',
    'database mdb',
    `suffix "${ldapBaseDn}"`,
    `rootdn "${managerDn}"`,
    `rootpw ${sshaHash(managerPassword)}`,
    `directory ${join(dir, 'data')}`,
    'maxsize 67108864',
    // Passwords: only usable to authenticate; everything else readable by bound users only.
    'access to attrs=userPassword by self write by anonymous auth by * none',
    'access to * by users read by * none',
    '',
  ].join('\n');
}

/** Builds a local slapd holding `directory` (default: alice/bob/carol); `start()` installs slapd when missing. */
export function createLdapKit(options: { directory?: TestDirectory; startTimeoutMs?: number } = {}): LdapKit {
  let tracked: TrackedChild | undefined;
  let dir: string | undefined;
  let info: LdapKitInfo | undefined;
  let starting: Promise<LdapKitInfo> | undefined;
  const directory = options.directory ?? defaultTestDirectory;

  async function boot(): Promise<LdapKitInfo> {
    const slapd = await ensureDebianPackages('slapd', ['slapd', 'ldap-utils']);
    const slapadd = (await ensureDebianPackages('slapadd', ['slapd', 'ldap-utils'])) ?? 'slapadd';
    dir = await mkdtemp(join(tmpdir(), 'tributary-ldap-'));
    await mkdir(join(dir, 'data'));
    const managerDn = `cn=admin,${ldapBaseDn}`;
    const managerPassword = randomBytes(12).toString('hex');
    const confPath = join(dir, 'slapd.conf');
    const ldifPath = join(dir, 'directory.ldif');
    await writeFile(confPath, slapdConf(dir, managerDn, managerPassword));
    await writeFile(ldifPath, directoryLdif(directory));
    try {
      await execFileAsync(slapadd, ['-f', confPath, '-l', ldifPath], { timeout: 60_000 });
    } catch (err) {
      throw new HubError('KIT_LDAP_LOAD_FAILED', 'slapadd could not load the test directory', {
        hint: String((err as { stderr?: string }).stderr ?? err),
        cause: err,
      });
    }
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const url = `ldap://127.0.0.1:${port}`;
      // -d 0 keeps slapd in the foreground (a child we can stop) without debug output.
      tracked = spawnTracked(slapd, ['-f', confPath, '-h', `${url}/`, '-d', '0'], dir);
      const canBind = async () => {
        const client = new Client({ url, timeout: 2000, connectTimeout: 2000 });
        try {
          await client.bind(managerDn, managerPassword);
          return true;
        } finally {
          await client.unbind().catch(() => undefined);
        }
      };
      try {
        await waitUntilReady(`slapd on port ${port}`, tracked, canBind, options.startTimeoutMs ?? 20_000);
        info = {
          url,
          port,
          baseDn: ldapBaseDn,
          peopleDn: ldapPeopleDn,
          groupsDn: ldapGroupsDn,
          managerDn,
          managerPassword,
        };
        return info;
      } catch (err) {
        await stopChild(tracked);
        if (attempt >= 3) throw err;
      }
    }
  }

  return {
    get info() {
      return info;
    },
    start() {
      starting ??= boot();
      return starting;
    },
    async stop() {
      starting = undefined;
      info = undefined;
      if (tracked) await stopChild(tracked);
      tracked = undefined;
      if (dir) await rm(dir, { recursive: true, force: true });
      dir = undefined;
    },
  };
}
