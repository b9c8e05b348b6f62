import { z } from 'zod';
import { allowedAlgorithms } from '../security/index.ts';

/** Configuration of the MCP bridge's HTTP side (security, limits, sessions). */
export const bridgeConfigSchema = z.object({
  host: z.string().default('127.0.0.1').describe('Interface the HTTP server listens on'),
  port: z.number().int().min(0).max(65535).default(7300).describe('HTTP port (0 picks a free one)'),
  publicUrl: z
    .string()
    .url()
    .optional()
    .describe('Origin clients use to reach the bridge (behind a load balancer); default http://host:port'),
  mcpPath: z.string().default('/mcp').describe('Path of the Streamable HTTP MCP endpoint'),
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
  toolCallsPerWindow: z.number().int().positive().default(120).describe('Tool calls per user per window'),
  rateWindowSeconds: z.number().int().positive().default(60).describe('Length of a rate-limit window'),
  maxBodyBytes: z
    .number()
    .int()
    .positive()
    .default(1024 * 1024)
    .describe('Largest accepted request body (larger gets 413)'),
  allowedOrigins: z
    .array(z.string())
    .default([])
    .describe('Browser origins allowed besides the public one (Origin header check against DNS rebinding)'),
  tasks: z.boolean().default(true).describe('Let clients run tool calls as MCP tasks (kept in Redis)'),
  redisKeyPrefix: z
    .string()
    .default('tributary:mcp:')
    .describe('Prefix of every Redis key the bridge writes'),
});
export type BridgeConfig = z.infer<typeof bridgeConfigSchema>;
