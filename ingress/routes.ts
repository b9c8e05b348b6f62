import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import canonicalize from 'canonicalize';
import { HubError, toHubError } from '../core/errors.ts';
import type { HubContext } from '../platform/index.ts';
import {
  type BridgeIdentity,
  type EmitAction,
  type Policy,
  parseJsonBody,
  type RateLimiter,
  readBody,
  sendJson,
} from '../security/index.ts';
import type { IdempotencyRecords } from './idempotency.ts';
import { findIngressType, type IngressType } from './ingress-types.ts';
import { publishIngressEvent } from './publish.ts';
import { readEventsPage } from './read-events.ts';

/**
 * The two API operations behind authentication: publish one event, read one page. Each checks
 * the caller's permission (`ingress:<type>`, `read:<topic>`) and rate limit, and reports one
 * audit action whatever the outcome (succeeded, failed for a bad request, denied).
 */

export interface ApiDeps {
  hub: HubContext;
  policy: Policy;
  callLimiter: RateLimiter;
  idempotency: IdempotencyRecords;
  types: readonly IngressType[];
  emitAction: EmitAction;
  maxBodyBytes: number;
  maxPageSize: number;
  /** envelope.source of pushed events. */
  source: string;
}

export interface ApiRoutes {
  publish(
    identity: BridgeIdentity,
    typeName: string,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void>;
  read(identity: BridgeIdentity, topic: string, url: URL, res: ServerResponse): Promise<void>;
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

function digestOf(body: unknown): string {
  return createHash('sha256')
    .update(canonicalize(body) ?? '')
    .digest('hex');
}

function intParam(url: URL, name: string): number | undefined {
  const text = url.searchParams.get(name);
  if (text === null || text === '') return undefined;
  if (!/^\d+$/.test(text)) {
    throw new HubError('HTTP_BAD_REQUEST', `${name} must be a non-negative integer`, {
      where: { field: name },
    });
  }
  return Number(text);
}

/** Builds the handlers; errors are thrown as HubError for the server to render (after auditing). */
export function createApiRoutes(deps: ApiDeps): ApiRoutes {
  async function allow(identity: BridgeIdentity, permission: string) {
    if (!deps.policy.allows(identity.roles, permission)) {
      throw new HubError('AUTH_FORBIDDEN', `your roles do not allow ${permission}`, {
        hint: 'ask an administrator for a role that allows it (see the policy file)',
      });
    }
    const limit = await deps.callLimiter.hit(`calls:${identity.sub}`);
    if (!limit.allowed) {
      throw new HubError('RATE_LIMITED', 'too many calls; slow down', {
        retriable: true,
        where: { retryAfterMs: limit.retryAfterMs },
        hint: `wait ${Math.ceil(limit.retryAfterMs / 1000)} s`,
      });
    }
  }

  /** Reports the call; an audit outage is logged by the caller's emitter, never fails the call. */
  async function audit(
    identity: BridgeIdentity,
    action: string,
    resource: string,
    error: HubError | undefined,
    details: Record<string, string | number | boolean>,
    argsDigest?: string,
    correlationId?: string,
  ) {
    const denied = error && (error.code === 'AUTH_FORBIDDEN' || error.code === 'RATE_LIMITED');
    await Promise.resolve(
      deps.emitAction({
        action,
        actor: identity.sub,
        resource,
        outcome: error ? (denied ? 'denied' : 'failed') : 'succeeded',
        ...(argsDigest ? { argsDigest } : {}),
        ...(correlationId ? { correlationId } : {}),
        details: { ...details, ...(error ? { code: error.code } : {}) },
      }),
    ).catch(() => undefined);
  }

  return {
    async publish(identity, typeName, req, res) {
      const type = findIngressType(deps.types, typeName);
      let digest: string | undefined;
      let correlationId: string | undefined;
      try {
        if (!type) {
          throw new HubError('INGRESS_TYPE_UNKNOWN', `no ingress type ${typeName}`, {
            where: { subject: typeName },
            hint: 'GET /openapi.json lists the types this ingress accepts',
          });
        }
        await allow(identity, `ingress:${type.name}`);
        const contentType = header(req, 'content-type');
        if (contentType && !/^application\/([a-z.+-]*\+)?json\b/i.test(contentType)) {
          throw new HubError('HTTP_UNSUPPORTED_MEDIA_TYPE', `send application/json, not ${contentType}`);
        }
        const body = parseJsonBody(await readBody(req, deps.maxBodyBytes));
        digest = digestOf(body);
        correlationId = header(req, 'correlation-id')?.slice(0, 128);
        const idempotencyKey = header(req, 'idempotency-key');
        const { reply, replayed } = await publishIngressEvent(
          {
            serde: deps.hub.serde,
            producer: deps.hub.producer,
            idempotency: deps.idempotency,
            source: deps.source,
          },
          {
            type,
            identity,
            body,
            ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
            ...(correlationId ? { correlationId } : {}),
          },
        );
        await audit(
          identity,
          'ingress.event.publish',
          type.topic,
          undefined,
          { type: type.name, eventId: reply.id, replayed, status: 201 },
          digest,
          correlationId ?? reply.id,
        );
        sendJson(res, 201, reply, {
          location: `/v1/topics/${encodeURIComponent(reply.topic)}/events?partition=${reply.partition}&from=${reply.offset}&limit=1`,
          ...(replayed ? { 'idempotent-replayed': 'true' } : {}),
        });
      } catch (err) {
        const hubError = toHubError(err);
        await audit(
          identity,
          'ingress.event.publish',
          type?.topic ?? typeName,
          hubError,
          { type: type?.name ?? typeName },
          digest,
          correlationId,
        );
        throw hubError;
      }
    },

    async read(identity, topic, url, res) {
      try {
        await allow(identity, `read:${topic}`);
        const limit = Math.min(intParam(url, 'limit') ?? 100, deps.maxPageSize);
        if (limit < 1)
          throw new HubError('HTTP_BAD_REQUEST', 'limit must be at least 1', { where: { field: 'limit' } });
        const partition = intParam(url, 'partition');
        const from = url.searchParams.get('from') ?? undefined;
        const cursor = url.searchParams.get('cursor') ?? undefined;
        const page = await readEventsPage(deps.hub, {
          topic,
          limit,
          ...(partition !== undefined ? { partition } : {}),
          ...(from !== undefined ? { from } : {}),
          ...(cursor !== undefined ? { cursor } : {}),
        });
        await audit(identity, 'ingress.events.read', topic, undefined, {
          count: page.events.length,
          status: 200,
        });
        sendJson(res, 200, page);
      } catch (err) {
        const hubError = toHubError(err);
        await audit(identity, 'ingress.events.read', topic, hubError, {});
        throw hubError;
      }
    },
  };
}
