import { z } from 'zod';
import { allowedAlgorithms } from './jwt.ts';

/**
 * Token, session and login-limit settings every authenticated HTTP surface (the MCP bridge, the
 * ingress) shares, so one login policy reads the same everywhere. Spread into a z.object().
 */
export const authConfigShape = {
  issuer: z.string().optional().describe('JWT issuer; default the public origin'),
  algorithm: z.enum(allowedAlgorithms).default('ES256').describe('JWT signing algorithm (asymmetric only)'),
  accessTokenTtlSeconds: z.number().int().positive().default(900).describe('Lifetime of an access token'),
  clockToleranceSeconds: z
    .number()
    .int()
    .min(0)
    .max(60)
    .default(5)
    .describe('Allowed clock skew for exp and nbf'),
  sessionIdleSeconds: z.number().int().positive().default(1800).describe('A session unused this long ends'),
  sessionMaxSeconds: z
    .number()
    .int()
    .positive()
    .default(43200)
    .describe('A session ends this long after login'),
  loginAttemptsPerWindow: z
    .number()
    .int()
    .positive()
    .default(10)
    .describe('Login attempts per user name per window'),
  rateWindowSeconds: z.number().int().positive().default(60).describe('Length of a rate-limit window'),
};
