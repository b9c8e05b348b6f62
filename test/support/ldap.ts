import {
  createLdapKit,
  defaultTestDirectory,
  directoryLdif,
  ldapBaseDn,
  type TestDirectory,
} from '../../kit/ldap.ts';

/**
 * One real OpenLDAP for tests. `LDAP_URL` when set: that server must hold the default test
 * directory (`directoryLdif(defaultTestDirectory)` under dc=tributary,dc=test). Otherwise the
 * local kit: Debian's slapd on a free port, loaded offline with slapadd. No container path: the
 * directory is loaded with slapadd before slapd starts, which a stock image does not offer.
 */

export interface TestLdap {
  url: string;
  baseDn: string;
  directory: TestDirectory;
  source: 'env' | 'kit';
  release(): Promise<void>;
}

let sharedStart: Promise<{ url: string; source: TestLdap['source']; stop: () => Promise<void> }> | undefined;
let users = 0;

async function startLdapService() {
  if (process.env.LDAP_URL)
    return { url: process.env.LDAP_URL, source: 'env' as const, stop: async () => {} };
  const kit = createLdapKit();
  const info = await kit.start();
  return { url: info.url, source: 'kit' as const, stop: () => kit.stop() };
}

/** Gives the calling test file an LDAP URL with the default directory; call `release()` in afterAll. */
export async function useTestLdap(): Promise<TestLdap> {
  users++;
  sharedStart ??= startLdapService();
  const service = await sharedStart;
  return {
    url: service.url,
    baseDn: ldapBaseDn,
    directory: defaultTestDirectory,
    source: service.source,
    release: async () => {
      users--;
      if (users === 0 && sharedStart) {
        const current = sharedStart;
        sharedStart = undefined;
        await (await current).stop();
      }
    },
  };
}

/** For a vitest global setup: starts one slapd for the run, sets LDAP_URL, returns the teardown. */
export async function startSharedLdap(): Promise<() => Promise<void>> {
  if (process.env.LDAP_URL) return async () => {};
  const service = await startLdapService();
  process.env.LDAP_URL = service.url;
  return async () => {
    delete process.env.LDAP_URL;
    await service.stop();
  };
}

export { defaultTestDirectory, directoryLdif };
