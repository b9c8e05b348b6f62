import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { HubError } from '../core/errors.ts';
import { writeFileAtomic } from './fs-util.ts';

/**
 * Audit keys: AES-256 encryption keys (by id, one current, old ones kept for reading) and
 * Ed25519 signing keys for checkpoints. They come from a key file or the environment, never
 * from a random default: a hub that silently made up a key would write a chain nobody can read
 * back or verify later.
 */

const base64 = z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, 'base64');

export const auditKeyFileSchema = z.object({
  version: z.literal(1).describe('Key file format version'),
  development: z.boolean().default(false).describe('True for a key file made by `tributary audit init`'),
  encryption: z.object({
    current: z
      .string()
      .optional()
      .describe('Id of the key new entries are encrypted with; absent on a verify-only copy without them'),
    keys: z.array(
      z.object({
        id: z.string().min(1).describe('Key id stored in every entry it encrypts'),
        key: base64.describe('32 random bytes, base64'),
        createdAt: z.string().describe('ISO time the key was made'),
      }),
    ),
  }),
  signing: z.object({
    current: z.string().describe('Id of the Ed25519 key new checkpoints are signed with'),
    keys: z
      .array(
        z.object({
          id: z.string().min(1).describe('Signing key id stored in every checkpoint it signs'),
          publicKey: base64.describe('Ed25519 public key, SPKI DER, base64'),
          privateKey: base64
            .optional()
            .describe('Ed25519 private key, PKCS#8 DER, base64; absent on a verify-only copy'),
          createdAt: z.string().describe('ISO time the key was made'),
        }),
      )
      .min(1),
  }),
});

export type AuditKeyFile = z.infer<typeof auditKeyFileSchema>;

export interface SigningKey {
  id: string;
  publicKey: KeyObject;
  privateKey: KeyObject | undefined;
}

/** The keys in memory, ready to use. */
export interface AuditKeyRing {
  /** Empty for a verify-only key file without encryption keys (it can neither write nor decrypt). */
  currentEncryptionKeyId: string;
  encryptionKeys: Map<string, Buffer>;
  currentSigningKeyId: string;
  signingKeys: Map<string, SigningKey>;
  development: boolean;
}

export const keyHint =
  'run `tributary audit init` to create a development key file, or set TRIBUTARY_AUDIT_KEY_FILE (path) or TRIBUTARY_AUDIT_KEYS (the key file JSON, base64)';

/** Parses and checks a key file's JSON; `origin` names it in errors. */
export function parseAuditKeys(json: string, origin: string): AuditKeyRing {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new HubError('AUDIT_KEYS_INVALID', `audit key file is not JSON: ${(err as Error).message}`, {
      where: { file: origin },
      cause: err,
    });
  }
  const parsed = auditKeyFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new HubError('AUDIT_KEYS_INVALID', `audit key file is invalid: ${issue?.message ?? 'bad shape'}`, {
      where: { file: origin, field: issue?.path.join('.') ?? '' },
    });
  }
  return keyRingFromFile(parsed.data, origin);
}

function keyRingFromFile(file: AuditKeyFile, origin: string): AuditKeyRing {
  const encryptionKeys = new Map<string, Buffer>();
  for (const k of file.encryption.keys) {
    const key = Buffer.from(k.key, 'base64');
    if (key.length !== 32) {
      throw new HubError('AUDIT_KEYS_INVALID', `encryption key ${k.id} is ${key.length} bytes, not 32`, {
        where: { file: origin, field: `encryption.keys.${k.id}` },
      });
    }
    encryptionKeys.set(k.id, key);
  }
  const signingKeys = new Map<string, SigningKey>();
  for (const k of file.signing.keys) {
    try {
      const publicKey = createPublicKey({
        key: Buffer.from(k.publicKey, 'base64'),
        format: 'der',
        type: 'spki',
      });
      const privateKey = k.privateKey
        ? createPrivateKey({ key: Buffer.from(k.privateKey, 'base64'), format: 'der', type: 'pkcs8' })
        : undefined;
      if (publicKey.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 key');
      signingKeys.set(k.id, { id: k.id, publicKey, privateKey });
    } catch (err) {
      throw new HubError(
        'AUDIT_KEYS_INVALID',
        `signing key ${k.id} is unreadable: ${(err as Error).message}`,
        {
          where: { file: origin, field: `signing.keys.${k.id}` },
          cause: err,
        },
      );
    }
  }
  const current = file.encryption.current;
  if (current === undefined ? encryptionKeys.size > 0 : !encryptionKeys.has(current)) {
    throw new HubError(
      'AUDIT_KEYS_INVALID',
      `current encryption key ${current ?? '(none)'} is not in the file`,
      {
        where: { file: origin },
      },
    );
  }
  if (!signingKeys.has(file.signing.current)) {
    throw new HubError(
      'AUDIT_KEYS_INVALID',
      `current signing key ${file.signing.current} is not in the file`,
      {
        where: { file: origin },
      },
    );
  }
  return {
    currentEncryptionKeyId: current ?? '',
    encryptionKeys,
    currentSigningKeyId: file.signing.current,
    signingKeys,
    development: file.development,
  };
}

export interface KeySourceOptions {
  /** Explicit key file path (CLI --key-file); wins over the environment. */
  keyFile?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

/** Loads the audit keys from --key-file, TRIBUTARY_AUDIT_KEYS or TRIBUTARY_AUDIT_KEY_FILE; throws AUDIT_KEYS_MISSING otherwise. */
export async function loadAuditKeys(options: KeySourceOptions = {}): Promise<AuditKeyRing> {
  const { json, origin } = await readAuditKeySource(options);
  return parseAuditKeys(json, origin);
}

/** The key file as written (checked), from the same sources as loadAuditKeys. */
export async function loadAuditKeyFile(options: KeySourceOptions = {}): Promise<AuditKeyFile> {
  const { json, origin } = await readAuditKeySource(options);
  parseAuditKeys(json, origin);
  return auditKeyFileSchema.parse(JSON.parse(json));
}

async function readAuditKeySource(options: KeySourceOptions): Promise<{ json: string; origin: string }> {
  const env = options.env ?? process.env;
  const path = options.keyFile ?? (env.TRIBUTARY_AUDIT_KEYS ? undefined : env.TRIBUTARY_AUDIT_KEY_FILE);
  if (path) return { json: await readKeyFile(path), origin: path };
  if (env.TRIBUTARY_AUDIT_KEYS) {
    return {
      json: Buffer.from(env.TRIBUTARY_AUDIT_KEYS, 'base64').toString('utf8'),
      origin: 'TRIBUTARY_AUDIT_KEYS',
    };
  }
  throw new HubError(
    'AUDIT_KEYS_MISSING',
    'no audit key configured; the audit will not run with a made-up key',
    {
      hint: keyHint,
    },
  );
}

/**
 * A copy of a key file for auditors: the public signing keys only, and the encryption keys too
 * when `decrypt` (so `verify --decrypt` and `show --decrypt` work). Never a private signing
 * key: whoever holds the copy can check the chain but not sign a forged one.
 */
export function verifyOnlyKeyFile(file: AuditKeyFile, options: { decrypt: boolean }): AuditKeyFile {
  return {
    version: 1,
    development: file.development,
    encryption: options.decrypt ? file.encryption : { keys: [] },
    signing: {
      current: file.signing.current,
      keys: file.signing.keys.map(({ id, publicKey, createdAt }) => ({ id, publicKey, createdAt })),
    },
  };
}

/** Writes a verify-only copy; 0600 when it holds encryption keys, else 0644 (public keys only). */
export async function writeVerifyOnlyKeyFile(path: string, file: AuditKeyFile): Promise<void> {
  const secret = file.encryption.keys.length > 0;
  await writeFileAtomic(path, `${JSON.stringify(file, null, 2)}\n`, {
    mode: secret ? 0o600 : 0o644,
    exclusive: true,
  });
}

async function readKeyFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new HubError(
      code === 'ENOENT' ? 'AUDIT_KEYS_MISSING' : 'AUDIT_KEYS_UNREADABLE',
      code === 'ENOENT' ? 'audit key file does not exist' : `audit key file is unreadable: ${code}`,
      { where: { file: path }, hint: keyHint, cause: err },
    );
  }
}

function newKeyId(prefix: string): string {
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '');
  return `${prefix}-${day}-${randomBytes(3).toString('hex')}`;
}

function newEncryptionKey(now: Date): AuditKeyFile['encryption']['keys'][number] {
  return { id: newKeyId('enc'), key: randomBytes(32).toString('base64'), createdAt: now.toISOString() };
}

function newSigningKey(now: Date): AuditKeyFile['signing']['keys'][number] {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    id: newKeyId('sig'),
    publicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
    privateKey: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
    createdAt: now.toISOString(),
  };
}

/** A fresh key file: one encryption key and one signing key. */
export function generateAuditKeyFile(options: { development: boolean; now?: Date }): AuditKeyFile {
  const now = options.now ?? new Date();
  const enc = newEncryptionKey(now);
  const sig = newSigningKey(now);
  return {
    version: 1,
    development: options.development,
    encryption: { current: enc.id, keys: [enc] },
    signing: { current: sig.id, keys: [sig] },
  };
}

/** Writes a new key file (mode 0600); refuses to replace an existing one. */
export async function createKeyFile(path: string, file: AuditKeyFile): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, exclusive: true });
}

/** Adds a new current encryption key (and signing key when asked), keeping old ones for reading. */
export async function rotateKeyFile(
  path: string,
  options: { signing?: boolean; now?: Date } = {},
): Promise<{ encryptionKeyId: string; signingKeyId: string }> {
  const now = options.now ?? new Date();
  const raw = await readKeyFile(path);
  parseAuditKeys(raw, path);
  const file = auditKeyFileSchema.parse(JSON.parse(raw));
  const enc = newEncryptionKey(now);
  file.encryption.keys.push(enc);
  file.encryption.current = enc.id;
  if (options.signing) {
    const sig = newSigningKey(now);
    file.signing.keys.push(sig);
    file.signing.current = sig.id;
  }
  await writeFileAtomic(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  return { encryptionKeyId: file.encryption.current, signingKeyId: file.signing.current };
}

/** Throws AUDIT_KEYS_VERIFY_ONLY unless the ring can write (private signing key, encryption key). */
export function assertCanWrite(keys: AuditKeyRing): void {
  if (keys.signingKeys.get(keys.currentSigningKeyId)?.privateKey && keys.currentEncryptionKeyId) return;
  throw new HubError(
    'AUDIT_KEYS_VERIFY_ONLY',
    'this key file can verify the audit but not write it: it has no private signing key or no encryption key',
    { hint: 'run the audit consumer with the full key file; verify-only copies are for auditors' },
  );
}

/** The encryption key with this id, or AUDIT_KEY_UNKNOWN naming it. */
export function encryptionKey(keys: AuditKeyRing, id: string): Buffer {
  const key = keys.encryptionKeys.get(id);
  if (!key) {
    throw new HubError('AUDIT_KEY_UNKNOWN', `encryption key ${id} is not in the key ring`, {
      hint: 'load the key file that holds the old keys (rotate-key keeps them)',
    });
  }
  return key;
}
