import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject, randomBytes } from 'node:crypto';
import { canonicalAadText, canonicalBodyText } from './canonical-shapes.ts';
import { canonicalJson, type SensitiveBody } from './entry.ts';

/**
 * AES-256-GCM for entry bodies.
 *
 * Nonces are 96 random bits per encryption. A counter would need a persistent, shared state per
 * key across every chain and process that writes with that key (one chain per partition, several
 * consumers, restarts after a crash), and a lost counter means a reused nonce, which breaks GCM
 * completely. Random 96-bit nonces need no state; NIST SP 800-38D bounds their collision risk
 * below 2^-32 for up to 2^32 encryptions under one key, far beyond what one key encrypts between
 * rotations (`tributary audit rotate-key`). They are cut from one randomBytes call per 256
 * nonces (the same CSPRNG, each byte used once): a call per nonce cost more than the cipher.
 *
 * Keys are handed in as Buffers and turned into a KeyObject once per Buffer: given a Buffer,
 * Node 24's createCipheriv first tries it as a KeyObject and as a CryptoKey, each a throw and
 * catch, which took longer than the encryption itself. A key Buffer must not change after use.
 */

/** What is bound into the tag besides the body: moving ciphertext to another seq, chain or key id fails. */
export interface EntryAad {
  chain: string;
  seq: number;
  prevHash: string;
  keyId: string;
  subjectKeyId: string | null;
  eventId: string;
}

export interface Sealed {
  nonce: string;
  ciphertext: string;
  tag: string;
}

function aadBytes(aad: EntryAad): Buffer {
  return Buffer.from(
    canonicalJson({
      chain: aad.chain,
      seq: aad.seq,
      prevHash: aad.prevHash,
      keyId: aad.keyId,
      subjectKeyId: aad.subjectKeyId,
      eventId: aad.eventId,
    }),
  );
}

/** Encrypts a body under a 32-byte key with a fresh random nonce. */
export function sealBody(key: Buffer, body: SensitiveBody, aad: EntryAad): Sealed {
  return sealText(key, canonicalBodyText(body), canonicalAadText(aad));
}

/** Encrypts a body's text under a 32-byte key with a fresh random nonce, `aadText` as its AAD. */
export function sealText(key: Buffer, bodyText: string, aadText: string): Sealed {
  // The cipher takes the text as it is (encoded natively): no Buffer of the plaintext in JS.
  return seal(key, bodyText, Buffer.from(aadText));
}

/** Decrypts and authenticates a body; throws when the key, AAD or ciphertext is wrong. */
export function openBody(key: Buffer, sealed: Sealed, aad: EntryAad): SensitiveBody {
  return JSON.parse(open(key, sealed, aadBytes(aad)).toString('utf8')) as SensitiveBody;
}

const keyObjects = new WeakMap<Buffer, KeyObject>();

function keyObject(key: Buffer): KeyObject {
  let k = keyObjects.get(key);
  if (!k) {
    k = createSecretKey(key);
    keyObjects.set(key, k);
  }
  return k;
}

const NONCE = 12;
const POOL_NONCES = 256;
// 12 bytes are 16 base64 characters without padding, so the pool's base64 text, cut every 16
// characters, is each nonce's base64: one encoding per pool instead of one per nonce.
const NONCE_B64 = 16;
let noncePool = Buffer.alloc(0);
let noncePoolText = '';
let noncePoolAt = POOL_NONCES;

/** Takes the next 96 fresh random bits of the pool (never handed out twice); returns their index. */
function nextNonce(): number {
  if (noncePoolAt >= POOL_NONCES) {
    noncePool = randomBytes(NONCE * POOL_NONCES);
    noncePoolText = noncePool.toString('base64');
    noncePoolAt = 0;
  }
  const i = noncePoolAt;
  noncePoolAt += 1;
  return i;
}

/** AES-256-GCM with a random 96-bit nonce (a string plaintext is UTF-8); base64 fields. */
export function seal(key: Buffer, plaintext: Buffer | string, aad: Buffer): Sealed {
  const i = nextNonce();
  const cipher = createCipheriv(
    'aes-256-gcm',
    keyObject(key),
    noncePool.subarray(i * NONCE, i * NONCE + NONCE),
  );
  cipher.setAAD(aad);
  const head = typeof plaintext === 'string' ? cipher.update(plaintext, 'utf8') : cipher.update(plaintext);
  const tail = cipher.final(); // empty for GCM, a stream mode
  const ciphertext = tail.length === 0 ? head : Buffer.concat([head, tail]);
  return {
    nonce: noncePoolText.slice(i * NONCE_B64, i * NONCE_B64 + NONCE_B64),
    ciphertext: ciphertext.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
  };
}

/** Inverse of `seal`; throws on any authentication failure. */
export function open(key: Buffer, sealed: Sealed, aad: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', keyObject(key), Buffer.from(sealed.nonce, 'base64'), {
    authTagLength: 16,
  });
  decipher.setAAD(aad);
  decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
  return Buffer.concat([decipher.update(Buffer.from(sealed.ciphertext, 'base64')), decipher.final()]);
}
