import type { Redis } from 'ioredis';
import type { Logger } from '../core/logger.ts';

/**
 * Cancellation of tool calls across stateless bridge instances. Over Streamable HTTP the
 * client's `notifications/cancelled` arrives as a new POST, possibly at another instance than
 * the one running the call; so the receiving instance publishes it on a Redis channel and the
 * instance that tracks the call aborts it. Calls are keyed by the caller's session and the
 * JSON-RPC request id, so nobody can cancel another session's calls.
 */

export interface CallRegistry {
  /** Tracks a running call; returns the function that stops tracking it. */
  track(sessionId: string, requestId: string | number, controller: AbortController): () => void;
  /** Asks every instance to abort the session's call `requestId`. */
  cancel(sessionId: string, requestId: string | number): Promise<void>;
  /** Subscribes to the cancel channel. */
  start(): Promise<void>;
  close(): Promise<void>;
}

const keyOf = (sessionId: string, requestId: string | number) => `${sessionId}\u0000${String(requestId)}`;

/** Builds the registry over a Redis pub/sub channel (a second connection subscribes). */
export function createCallRegistry(options: { redis: Redis; channel: string; logger: Logger }): CallRegistry {
  const running = new Map<string, AbortController>();
  let subscriber: Redis | undefined;
  return {
    track(sessionId, requestId, controller) {
      const key = keyOf(sessionId, requestId);
      running.set(key, controller);
      return () => {
        if (running.get(key) === controller) running.delete(key);
      };
    },
    async cancel(sessionId, requestId) {
      // Abort locally at once; the channel tells the other instances.
      running.get(keyOf(sessionId, requestId))?.abort();
      await options.redis.publish(options.channel, JSON.stringify({ sessionId, requestId }));
    },
    async start() {
      if (subscriber) return;
      // Its own connection (a subscriber can do nothing else), queueing until connected.
      subscriber = options.redis.duplicate({ enableOfflineQueue: true });
      subscriber.on('error', (err: Error) =>
        options.logger.warn({ err: err.message }, 'cancel channel: Redis error'),
      );
      subscriber.on('message', (_channel: string, text: string) => {
        try {
          const { sessionId, requestId } = JSON.parse(text) as {
            sessionId: string;
            requestId: string | number;
          };
          running.get(keyOf(sessionId, requestId))?.abort();
        } catch (err) {
          options.logger.warn({ err }, 'malformed cancel message ignored');
        }
      });
      await subscriber.subscribe(options.channel);
    },
    async close() {
      const current = subscriber;
      subscriber = undefined;
      for (const controller of running.values()) controller.abort();
      running.clear();
      current?.disconnect();
    },
  };
}
