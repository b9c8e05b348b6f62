import { createPrivateKey, createPublicKey, type KeyObject, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { HubError } from '../core/errors.ts';
import type { BridgeIdentity } from './identity.ts';

/**
 * Access tokens of the bridge: short-lived JWTs signed with an asymmetric key. Verification pins
 * the one configured algorithm (never `none`, never an HMAC algorithm, so a token "signed" with
 * the public key as an HMAC secret is refused), and requires issuer, audience (the bridge's
 * resource URL), exp, nbf and iat. Only the verified identity leaves this module.
 */

/** Asymmetric algorithms only: HS* would let anyone holding the public key forge tokens. */
export const allowedAlgorithms = ['ES256', 'ES384', 'RS256', 'PS256'] as const;
export type TokenAlgorithm = (typeof allowedAlgorithms)[number];

export interface TokenServiceOptions {
  issuer: string;
  /** The bridge's resource URL (RFC 8707 / RFC 9728 `resource`), e.g. https://hub.example/mcp. */
  audience: string;
  algorithm: TokenAlgorithm;
  /** PEM or KeyObject; a verify-only instance may omit it. */
  privateKey?: string | KeyObject;
  /** PEM or KeyObject; derived from the private key when omitted. */
  publicKey?: string | KeyObject;
  accessTokenTtlSeconds: number;
  clockToleranceSeconds: number;
  /** Current time in ms (tests pass a clock). */
  clock?: () => number;
}

export interface IssuedToken {
  token: string;
  /** Expiry as epoch seconds. */
  expiresAt: number;
  expiresIn: number;
}

export interface TokenService {
  /** Signs an access token for `identity` (ttl defaults to the configured one). */
  issue(identity: BridgeIdentity, ttlSeconds?: number): IssuedToken;
  /** Verifies a token; throws HubError AUTH_TOKEN_INVALID / AUTH_TOKEN_EXPIRED / AUTH_TOKEN_NOT_YET_VALID. */
  verify(token: string): BridgeIdentity & { expiresAt: number };
  readonly audience: string;
  readonly issuer: string;
}

function keyTypeFor(algorithm: TokenAlgorithm): string {
  return algorithm.startsWith('ES') ? 'ec' : 'rsa';
}

function invalid(reason: string, cause?: unknown): HubError {
  return new HubError('AUTH_TOKEN_INVALID', `access token refused: ${reason}`, {
    hint: 'log in again (POST /auth/login) and send the new token as `Authorization: Bearer <token>`',
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Builds the token service; throws CONFIG_INVALID when the key does not fit the algorithm. */
export function createTokenService(options: TokenServiceOptions): TokenService {
  if (!(allowedAlgorithms as readonly string[]).includes(options.algorithm)) {
    throw new HubError('CONFIG_INVALID', `token algorithm ${options.algorithm} is not allowed`, {
      hint: `use one of ${allowedAlgorithms.join(', ')}`,
    });
  }
  const privateKey =
    options.privateKey === undefined
      ? undefined
      : typeof options.privateKey === 'string'
        ? createPrivateKey(options.privateKey)
        : options.privateKey;
  const publicKey =
    options.publicKey === undefined
      ? privateKey
        ? createPublicKey(privateKey)
        : undefined
      : typeof options.publicKey === 'string'
        ? createPublicKey(options.publicKey)
        : options.publicKey;
  if (!publicKey) throw new HubError('CONFIG_INVALID', 'the token service needs a public or private key');
  const expectedType = keyTypeFor(options.algorithm);
  for (const key of [privateKey, publicKey]) {
    if (
      key &&
      key.asymmetricKeyType !== expectedType &&
      !(expectedType === 'rsa' && key.asymmetricKeyType === 'rsa-pss')
    ) {
      throw new HubError(
        'CONFIG_INVALID',
        `a ${key.asymmetricKeyType} key cannot sign ${options.algorithm} tokens`,
        {
          hint: options.algorithm.startsWith('ES')
            ? 'use a P-256 EC key'
            : 'use an RSA key of 2048 bits or more',
        },
      );
    }
  }
  const now = () => Math.floor((options.clock?.() ?? Date.now()) / 1000);

  return {
    audience: options.audience,
    issuer: options.issuer,
    issue(identity, ttlSeconds = options.accessTokenTtlSeconds) {
      if (!privateKey)
        throw new HubError('CONFIG_INVALID', 'this token service has no private key and cannot issue tokens');
      const iat = now();
      const expiresAt = iat + ttlSeconds;
      const payload = { roles: identity.roles, sid: identity.sessionId, iat, nbf: iat, exp: expiresAt };
      const token = jwt.sign(payload, privateKey, {
        algorithm: options.algorithm,
        issuer: options.issuer,
        audience: options.audience,
        subject: identity.sub,
        jwtid: randomUUID(),
      });
      return { token, expiresAt, expiresIn: ttlSeconds };
    },
    verify(token) {
      let claims: jwt.JwtPayload;
      try {
        const decoded = jwt.verify(token, publicKey, {
          algorithms: [options.algorithm],
          issuer: options.issuer,
          audience: options.audience,
          clockTolerance: options.clockToleranceSeconds,
          clockTimestamp: now(),
          complete: false,
        });
        if (typeof decoded === 'string') throw invalid('payload is not a JSON object');
        claims = decoded;
      } catch (err) {
        if (err instanceof HubError) throw err;
        if (err instanceof jwt.TokenExpiredError) {
          throw new HubError('AUTH_TOKEN_EXPIRED', 'access token expired', {
            hint: 'refresh it (POST /auth/refresh) or log in again',
            cause: err,
          });
        }
        if (err instanceof jwt.NotBeforeError) {
          throw new HubError('AUTH_TOKEN_NOT_YET_VALID', 'access token is not valid yet', { cause: err });
        }
        throw invalid((err as Error).message, err);
      }
      // jsonwebtoken checks exp/nbf only when present: require them, and the identity claims.
      if (
        typeof claims.exp !== 'number' ||
        typeof claims.nbf !== 'number' ||
        typeof claims.iat !== 'number'
      ) {
        throw invalid('exp, nbf and iat are required');
      }
      const roles = claims.roles;
      if (typeof claims.sub !== 'string' || claims.sub.length === 0) throw invalid('no subject');
      if (typeof claims.sid !== 'string' || claims.sid.length === 0) throw invalid('no session id');
      if (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string'))
        throw invalid('roles malformed');
      return { sub: claims.sub, roles, sessionId: claims.sid, expiresAt: claims.exp };
    },
  };
}
