import { z } from 'zod';
import { authConfigShape, ldapDirectoryConfig } from '../security/index.ts';

/** Configuration of the HTTP ingress: listener, token checks, limits, idempotency, collaborators. */
export const ingressConfigSchema = z.object({
  host: z.string().default('127.0.0.1').describe('Interface the HTTP server listens on'),
  port: z.number().int().min(0).max(65535).default(7400).describe('HTTP port (0 picks a free one)'),
  publicUrl: z
    .string()
    .url()
    .optional()
    .describe('Origin clients use to reach the ingress (behind a load balancer); default http://host:port'),
  ...authConfigShape,
  sessionKeyPrefix: z
    .string()
    .default('tributary:mcp:')
    .describe(
      'Redis prefix of the login sessions; the bridge uses the same by default, so revoking a user ends both',
    ),
  callsPerWindow: z.number().int().positive().default(600).describe('API calls per user per window'),
  maxBodyBytes: z
    .number()
    .int()
    .positive()
    .default(256 * 1024)
    .describe('Largest accepted event body in bytes (larger gets 413)'),
  idempotencyTtlSeconds: z
    .number()
    .int()
    .positive()
    .default(24 * 60 * 60)
    .describe('How long an Idempotency-Key is remembered'),
  maxPageSize: z.number().int().positive().max(1000).default(500).describe('Largest `limit` of a GET page'),
  redisKeyPrefix: z
    .string()
    .default('tributary:ingress:')
    .describe('Prefix of the Redis keys of idempotency records and rate limits'),
  redisUrl: z
    .string()
    .optional()
    .describe('Redis for sessions, rate limits and idempotency keys (REDIS_URL)'),
  ldap: ldapDirectoryConfig.optional().describe('LDAP directory; without it the local users file is used'),
  usersFile: z.string().default('.tributary/mcp/users.json').describe('Local users file (scrypt hashes)'),
  policyFile: z
    .string()
    .optional()
    .describe('Policy file (YAML/JSON): roles allow `ingress:<type>` and `read:<topic>` patterns'),
  signingKeyFile: z
    .string()
    .default('.tributary/mcp/signing-key.pem')
    .describe('ES256 signing key shared by every instance; created when missing'),
  topicPrefix: z
    .string()
    .default('')
    .describe(
      'Prefix of every topic name, as the components are configured (tests isolate themselves with it)',
    ),
});
export type IngressConfig = z.infer<typeof ingressConfigSchema>;
