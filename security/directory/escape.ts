/**
 * Escaping of user input that goes into LDAP: distinguished-name values (RFC 4514) and search
 * filter values (RFC 4515). With both, a user name like `*)(uid=*))(|(uid=*` is only ever a
 * literal (and non-existent) name, never a wildcard or an extra filter clause.
 */

/** Escapes an attribute value for use inside a DN, e.g. `uid=<value>,ou=people,...` (RFC 4514 section 2.4). */
export function escapeDnValue(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] as string;
    const code = ch.charCodeAt(0);
    if (code === 0) out += '\\00';
    else if (',+"\\<>;='.includes(ch)) out += `\\${ch}`;
    else if ((ch === ' ' || ch === '#') && i === 0) out += `\\${ch}`;
    else if (ch === ' ' && i === value.length - 1) out += '\\ ';
    else if (code < 0x20 || code === 0x7f) out += `\\${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out;
}

/** Escapes a value for an LDAP search filter, e.g. `(member=<value>)` (RFC 4515 section 3). */
export function escapeFilterValue(value: string): string {
  // The four filter metacharacters and NUL become \hh; everything else is literal UTF-8 text.
  return value.replace(/[*()\\\0]/g, (ch) => `\\${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
