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
