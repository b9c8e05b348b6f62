import { randomUUID } from 'node:crypto';
import { HubError } from '../core/errors.ts';
import { type Logger, silentLogger } from '../core/logger.ts';
import { createHubAdmin } from '../platform/admin.ts';
import {
  createDeadLetterWriter,
  createEventConsumer,
  type EventConsumer,
  type EventProducer,
  type KafkaClient,
} from '../platform/index.ts';
import { type HubEvent, newEnvelope, type Serde } from '../schemas/index.ts';
import { commandIdFor } from './call-id.ts';
import type { ToolCallContext, ToolOutcome } from './tools.ts';
import type { CommandRunner, ResolvedCommand } from './tools-from-declarations.ts';

/**
 * The Kafka round trip of a tool call: publish the command event with the call's correlation
 * id, then wait for the result event carrying the same id. Every bridge instance reads every
 * result topic through a consumer group of its own, starting at the end, and keeps only the
 * results it waits for, so a result reaches the instance that holds the call whatever
 * partition it lands on. A timeout or a client cancel publishes a ToolCancelled event and
 * leaves no waiting state behind.
 */

export const CANCEL_TOPIC = 'mcp.tool.cancelled';
export const CANCEL_EVENT_TYPE = 'tributary.mcp.ToolCancelled';

/** Joins of the result topics tried before start() gives up. */
const startAttempts = 5;

export interface ReplyRouterOptions {
  kafka: KafkaClient;
  serde: Serde;
  producer: EventProducer;
  /** Result topics of every command the bridge offers. */
  resultTopics: string[];
  /**
   * Topics of progress events (data with `percent`, `stage`, `message`) carrying the call's
   * correlation id; each becomes `notifications/progress` when the client asked for progress.
   */
  progressTopics?: string[];
  /** How long a call waits for its result. */
  timeoutMs?: number;
  cancelTopic?: string;
  /** Names this instance's consumer group; random by default. */
  instanceId?: string;
  logger?: Logger;
}

export interface ReplyRouter {
  /** Joins the result topics (from their current end); resolves once partitions are assigned. */
  start(): Promise<void>;
  /** The CommandRunner tools-from-declarations needs. */
  runCommand: CommandRunner;
  /** Calls waiting for a result right now. */
  pending(): number;
  /** Fails the waiting calls and leaves the group. Idempotent. */
  close(): Promise<void>;
}

type EndReason = 'timeout' | 'clientCancelled' | 'bridgeShutdown';
type CallEnd = { event: HubEvent<unknown> } | { ended: EndReason };

/** Plain JSON of a decoded Avro value (records are class instances in avsc). */
function toPlainJson(value: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value ?? {})) as Record<string, unknown>;
}

/**
 * The topics' end offsets now, as `topic:partition` -> offset. The reply consumer starts there:
 * left to "latest", kafkajs resolves the start offset at the first fetch, after start() returned,
 * and a result published in between (a call retried the moment a restarted bridge listens) was
 * skipped, its call waiting until its timeout. (Committing the offsets with the admin client
 * instead joins the group once per topic: about 3 s each.)
 */
async function endsNow(kafka: KafkaClient, topics: readonly string[]): Promise<Map<string, string>> {
  const admin = createHubAdmin(kafka);
  await admin.start();
  try {
    const ends = new Map<string, string>();
    for (const topic of topics)
      for (const e of await admin.endOffsets(topic)) ends.set(`${topic}:${e.partition}`, e.high);
    return ends;
  } finally {
    await admin.close();
  }
}

/** Builds the reply router. */
export function createReplyRouter(options: ReplyRouterOptions): ReplyRouter {
  const logger = options.logger ?? silentLogger();
  const timeoutMs = options.timeoutMs ?? 60_000;
  const cancelTopic = options.cancelTopic ?? CANCEL_TOPIC;
  interface Waiting {
    end(end: CallEnd): void;
    context: ToolCallContext;
  }
  const waiting = new Map<string, Waiting>();
  const progressTopics = new Set(options.progressTopics ?? []);
  const instanceId = options.instanceId ?? randomUUID();
  let consumer: EventConsumer | undefined;
  let started = false;
  let closed = false;

  const handler = async (event: HubEvent<unknown>, position: { topic: string }) => {
    const id = event.envelope.correlationId;
    // Events of calls held by other instances are simply not ours.
    const call = id ? waiting.get(id) : undefined;
    if (!call) return;
    if (!progressTopics.has(position.topic)) {
      call.end({ event });
      return;
    }
    const data = event.data as { percent?: number | null; stage?: string; message?: string | null };
    const text = [data.stage, data.message].filter(Boolean).join(': ');
    await call.context
      .progress(typeof data.percent === 'number' ? data.percent : 0, 100, text || undefined)
      .catch((err: unknown) => logger.debug({ err }, 'progress notification not delivered'));
  };

  async function publishCancel(
    command: ResolvedCommand,
    context: ToolCallContext,
    commandEventId: string,
    reason: EndReason,
  ) {
    const envelope = newEnvelope({
      type: CANCEL_EVENT_TYPE,
      source: 'mcp-bridge',
      subject: context.correlationId,
      actor: context.identity.sub,
      correlationId: context.correlationId,
      causationId: commandEventId,
    });
    const data = { tool: command.name, commandTopic: command.topic, commandEventId, reason, message: null };
    await options.producer.publish(cancelTopic, [{ envelope, data }]).catch((err: unknown) => {
      logger.warn(
        { err, tool: command.name, correlationId: context.correlationId },
        'could not publish the cancel event',
      );
    });
  }

  const runCommand: CommandRunner = async (command, args, context): Promise<ToolOutcome> => {
    if (closed || !started) {
      throw new HubError('BRIDGE_NOT_READY', 'the bridge is not connected to Kafka', { retriable: true });
    }
    const keyField = (command as { keyField?: string }).keyField;
    const key = keyField && args[keyField] !== undefined ? String(args[keyField]) : context.correlationId;
    const envelope = newEnvelope({
      // A keyed call retried (after a bridge restart, a dropped connection) is the same command.
      ...(context.idempotencyKey
        ? { id: commandIdFor(context.identity.sub, command.name, context.idempotencyKey) }
        : {}),
      type: command.commandSchema,
      source: 'mcp-bridge',
      subject: key,
      // Only the verified identity travels on; the token stayed at the HTTP edge.
      actor: context.identity.sub,
      correlationId: context.correlationId,
    });
    let settle: (end: CallEnd) => void = () => undefined;
    const ended = new Promise<CallEnd>((resolve) => {
      settle = resolve;
    });
    // Register before publishing: a fast result must find its caller waiting.
    waiting.set(context.correlationId, { end: (end) => settle(end), context });
    const timer = setTimeout(() => settle({ ended: 'timeout' }), timeoutMs);
    const onAbort = () => settle({ ended: 'clientCancelled' });
    context.signal.addEventListener('abort', onAbort, { once: true });
    try {
      await options.producer.publish(command.topic, [{ envelope, data: args }]);
      const outcome = await ended;
      if ('event' in outcome) {
        const data = toPlainJson(outcome.event.data);
        // Result records say failure as status (processors) or outcome (connector sinks).
        return { structuredContent: data, isError: data.status === 'failed' || data.outcome === 'failed' };
      }
      const reason = outcome.ended;
      await publishCancel(command, context, envelope.id, reason);
      const message =
        reason === 'timeout'
          ? `TOOL_TIMEOUT: no result on ${command.resultTopic} within ${timeoutMs} ms; the command was cancelled`
          : `TOOL_CANCELLED: the call was cancelled (${reason})`;
      return { text: message, isError: true };
    } finally {
      clearTimeout(timer);
      context.signal.removeEventListener('abort', onAbort);
      waiting.delete(context.correlationId);
    }
  };

  return {
    runCommand,
    pending: () => waiting.size,
    async start() {
      if (started) return;
      const topics = [...new Set([...options.resultTopics, ...progressTopics])];
      if (topics.length === 0) {
        started = true;
        return;
      }
      const groupId = `_tributary.mcp-bridge.replies.${instanceId}`;
      const join = (startAt: Map<string, string>) =>
        createEventConsumer({
          kafka: options.kafka,
          serde: options.serde,
          groupId,
          topics,
          handler,
          deadLetters: createDeadLetterWriter({ producer: options.producer }),
          // A new group per instance: start at the end, results of earlier calls are not ours.
          fromBeginning: false,
          // The first join starts at the ends taken before start(); later joins at the commits.
          onAssigned: async () => {
            const first = new Map(startAt);
            startAt.clear();
            return first;
          },
          maxWaitTimeMs: 200,
          logger,
        });
      // A topic created moments ago may not be in every broker's metadata yet: retry a few times.
      for (let attempt = 1; ; attempt++) {
        try {
          consumer = join(await endsNow(options.kafka, topics));
          await consumer.start();
          break;
        } catch (err) {
          await consumer?.close().catch(() => undefined);
          consumer = undefined;
          const retriable = err instanceof HubError && err.retriable;
          if (retriable && attempt < startAttempts) {
            await new Promise((r) => setTimeout(r, 500 * attempt));
            continue;
          }
          throw new HubError(
            'BRIDGE_RESULT_TOPICS',
            `cannot follow the result topics: ${(err as Error).message}`,
            {
              retriable: true,
              where: { topic: topics.join(',') },
              hint: 'create the hub topics first (`tributary topology apply`) and check KAFKA_BROKERS',
              cause: err,
            },
          );
        }
      }
      started = true;
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const call of waiting.values()) call.end({ ended: 'bridgeShutdown' });
      await consumer?.close();
    },
  };
}
