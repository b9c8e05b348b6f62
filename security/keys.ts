import { generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { HubError } from '../core/errors.ts';

/** A new P-256 private key as PKCS#8 PEM, for ES256 tokens. */
export function generateSigningKeyPem(): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/**
 * Reads the bridge's signing key (PEM) from `path`, creating it (mode 0600) when absent.
 * Every bridge instance behind one load balancer must share this key.
 */
export async function loadOrCreateSigningKey(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new HubError('CONFIG_INVALID', `cannot read the signing key ${path}`, { cause: err });
    }
  }
  const pem = generateSigningKeyPem();
  await mkdir(dirname(path), { recursive: true });
  // 'wx' fails if another instance created it meanwhile; then use theirs.
  await writeFile(path, pem, { mode: 0o600, flag: 'wx' }).catch(() => undefined);
  return await readFile(path, 'utf8');
}
