import { z } from 'zod';
import { authConfigShape } from '../security/index.ts';

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
  ...authConfigShape,
  toolCallsPerWindow: z.number().int().positive().default(120).describe('Tool calls per user per window'),
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
