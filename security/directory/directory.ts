/** Someone the directory vouched for: their canonical user name and group names. */
export interface DirectoryUser {
  /** Canonical user name as the directory stores it (e.g. the entry's uid), used as `sub`. */
  name: string;
  groups: string[];
}

/**
 * Where user names and passwords are checked: LDAP in production, a local scrypt users file
 * as the embedded default. `authenticate` resolves undefined for wrong credentials (never says
 * which part was wrong) and throws HubError DIRECTORY_UNAVAILABLE when it cannot ask.
 */
export interface Directory {
  authenticate(username: string, password: string): Promise<DirectoryUser | undefined>;
  close?(): Promise<void>;
}

/** Longest user name or password the bridge passes to a directory. */
export const maxCredentialLength = 256;

/**
 * Whether a directory should check these credentials at all: both given and neither longer than
 * `maxCredentialLength`. An empty password must never reach LDAP, where it would be an
 * "unauthenticated bind" that succeeds anonymously.
 */
export function checkableCredentials(username: string, password: string): boolean {
  return (
    username.length > 0 &&
    password.length > 0 &&
    username.length <= maxCredentialLength &&
    password.length <= maxCredentialLength
  );
}
