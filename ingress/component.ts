import { Redis } from 'ioredis';
import type { z } from 'zod';
import { HubError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { ComponentDeclaration } from '../platform/declaration.ts';
import { createActionEmitter, type HubContext } from '../platform/index.ts';
import {
  createLdapDirectory,
  createLocalUsersDirectory,
  createPolicy,
  type Directory,
  defaultPolicy,
  type EmitAction,
  loadOrCreateSigningKey,
  loadPolicy,
} from '../security/index.ts';
import { ingressConfigSchema } from './config.ts';
import { type IngressType, ingressTypesOf } from './ingress-types.ts';
import { createIngressHttpServer, type IngressHttpServer } from './server.ts';

/**
 * The HTTP ingress as one component: the types it accepts come from every component's
 * commands, its security from security/, its Kafka from the hub context. `start()` then `close()`.
 */

export interface IngressDeps {
  hub: HubContext;
  /** Every component declaration of the hub; their commands are the ingress types. */
  declarations: readonly ComponentDeclaration<unknown>[];
  logger: Logger;
  /** Overrides: an existing Redis connection, an audit sink, a directory (tests). */
  redis?: Redis;
  emitAction?: EmitAction;
  directory?: Directory;
}

export interface Ingress {
  start(): Promise<{ url: string; resourceUrl: string }>;
  close(): Promise<void>;
  /** The accepted types (after start). */
  types(): readonly IngressType[];
  /** The HTTP server (after start): tokens and sessions for tests and the dev CLI. */
  server(): IngressHttpServer;
  status(): Record<string, unknown>;
}

/** Builds the ingress component. */
export function createIngress(input: z.input<typeof ingressConfigSchema>, deps: IngressDeps): Ingress {
  const config = ingressConfigSchema.parse(input);
  let http: IngressHttpServer | undefined;
  let redis: Redis | undefined;
  let types: IngressType[] = [];

  return {
    types: () => types,
    server() {
      if (!http) throw new HubError('INGRESS_NOT_STARTED', 'start() the ingress first');
      return http;
    },
    status: () => ({ types: types.length, listening: http !== undefined }),
    async start() {
      if (http) return await http.start();
      if (!deps.redis && !config.redisUrl) {
        throw new HubError(
          'CONFIG_INVALID',
          'the HTTP ingress needs Redis for sessions and idempotency keys',
          {
            hint: 'set REDIS_URL, or run `tributary ingress serve`, which starts a local redis-server',
          },
        );
      }
      types = ingressTypesOf(deps.declarations, deps.hub.catalog, config.topicPrefix);
      redis = deps.redis ?? new Redis(config.redisUrl as string, { maxRetriesPerRequest: 3 });
      const policy = config.policyFile ? await loadPolicy(config.policyFile) : createPolicy(defaultPolicy);
      const directory =
        deps.directory ??
        (config.ldap ? createLdapDirectory(config.ldap) : createLocalUsersDirectory(config.usersFile));
      const emitter = createActionEmitter({
        producer: deps.hub.producer,
        source: 'ingress',
        topic: `${config.topicPrefix}hub.actions`,
      });
      const emitAction: EmitAction =
        deps.emitAction ??
        ((action) =>
          emitter.emit(action).catch((err: unknown) => {
            deps.logger.error({ err, action: action.action }, 'could not emit the audit action');
          }));
      http = createIngressHttpServer(config, {
        hub: deps.hub,
        redis,
        directory,
        policy,
        signingKey: await loadOrCreateSigningKey(config.signingKeyFile),
        types,
        emitAction,
        logger: deps.logger,
      });
      return await http.start();
    },
    async close() {
      await http?.close();
      http = undefined;
      if (redis && !deps.redis) redis.disconnect();
      redis = undefined;
    },
  };
}
