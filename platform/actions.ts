import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { HubError } from '../core/errors.ts';
import { newEnvelope } from '../schemas/index.ts';
import type { EventProducer } from './producer.ts';

/** The topic every component writes its audit actions to. */
export const ACTIONS_TOPIC = 'hub.actions';

/** Avro full name of the action event (schemas/audit/action.v1.avsc). */
export const ACTION_EVENT_TYPE = 'tributary.audit.Action';

export type ActionOutcome = 'succeeded' | 'failed' | 'denied';

export interface ActionInput {
  /** Dotted action name: `connector.sync.batch`, `mcp.tool.call`, `auth.denied`, `dlq.redrive`, ... */
  action: string;
  /** Verified identity on whose behalf it happened; never a token. */
  actor: string;
  /** What it touched: a topic, a connector instance, an entity key, a tool name. */
  resource: string;
  outcome: ActionOutcome;
  correlationId?: string;
  causationId?: string;
  tenant?: string;
  /** Hex SHA-256 of the RFC 8785 JSON of the call arguments. */
  argsDigest?: string;
  /** Data subject (person) concerned, for per-subject encryption in the audit. */
  subjectId?: string;
  /** Sensitive context (counts, reasons); the audit stores it encrypted. Never secrets. */
  details?: Record<string, string | number | boolean>;
  traceparent?: string;
  /**
   * The event's id, made fresh when absent. Give the same id when sending one action again: the
   * audit records an event id once, so a resend whose first try did land is not recorded twice.
   */
  eventId?: string;
}

export interface ActionEmitter {
  /** Publishes one action event to `hub.actions`; resolves with its event id once acknowledged. */
  emit(input: ActionInput): Promise<string>;
}

/** Creates the emitter a component uses to report what it did to the audit. */
export function createActionEmitter(options: {
  producer: EventProducer;
  /** Emitting component, e.g. `connector.crm`; becomes envelope.source. */
  source: string;
  topic?: string;
}): ActionEmitter {
  const topic = options.topic ?? ACTIONS_TOPIC;
  return {
    async emit(input) {
      const envelope = newEnvelope({
        ...(input.eventId ? { id: input.eventId } : {}),
        type: ACTION_EVENT_TYPE,
        source: options.source,
        // Keyed by resource: the actions on one resource keep their order in one audit chain.
        subject: input.resource,
        actor: input.actor,
        ...(input.correlationId ? { correlationId: input.correlationId } : {}),
        ...(input.causationId ? { causationId: input.causationId } : {}),
        ...(input.tenant ? { tenant: input.tenant } : {}),
      });
      const data = {
        action: input.action,
        actor: input.actor,
        resource: input.resource,
        outcome: input.outcome,
        argsDigest: input.argsDigest ?? null,
        subjectId: input.subjectId ?? null,
        details: Object.fromEntries(Object.entries(input.details ?? {}).map(([k, v]) => [k, String(v)])),
      };
      await options.producer.publish(
        topic,
        [{ envelope, data }],
        input.traceparent ? { traceparent: input.traceparent } : {},
      );
      return envelope.id;
    },
  };
}

export interface InOrderOptions {
  /** Tries per action, the first included (default 6). */
  attempts?: number;
  /** Wait before the second try, doubled for each next one (default 200 ms). */
  delayMs?: number;
  /** Called with an action given up on: a failure that is not retriable, or the last try's. */
  onLost(err: unknown, input: ActionInput): void;
}

/**
 * Emits actions one after another in call order, trying a retriable failure again (a broker
 * briefly away, a topic just created): for actions whose order tells what happened, such as a
 * breaker's open, half-open and closed, emitted from event handlers that do not wait. Without
 * it, a first emit still registering its schema or failing once could arrive after the next one,
 * or not at all. Every try of one action sends the same event id: a try that landed but whose
 * answer was lost (a timeout) is then recorded once by the audit, not twice. Returns the emit;
 * its promise settles when that action is sent or given up.
 */
export function emitInOrder(
  emitter: ActionEmitter,
  options: InOrderOptions,
): (input: ActionInput) => Promise<void> {
  const attempts = options.attempts ?? 6;
  const delayMs = options.delayMs ?? 200;
  let tail: Promise<void> = Promise.resolve();
  const send = async (input: ActionInput) => {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await emitter.emit(input);
        return;
      } catch (err) {
        const retriable = err instanceof HubError && err.retriable;
        if (!retriable || attempt >= attempts) {
          options.onLost(err, input);
          return;
        }
        await sleep(delayMs * 2 ** (attempt - 1));
      }
    }
  };
  return (input) => {
    const once = input.eventId ? input : { ...input, eventId: randomUUID() };
    tail = tail.then(() => send(once));
    return tail;
  };
}
