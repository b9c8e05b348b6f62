import { randomUUID } from 'node:crypto';
import type { Envelope, EventData, EventName } from '../generated/types.ts';

export type { Envelope };

/** An event as the serde encodes it: the shared envelope around a domain payload. */
export interface HubEvent<D = unknown> {
  envelope: Envelope;
  data: D;
}

/** Fields a producer gives; the rest get defaults (new uuid, now, tenant `default`, no ids). */
export interface EnvelopeFields {
  /** Avro full name of the event record, e.g. tributary.crm.ContactChanged. */
  type: string;
  /** Producing component, e.g. connector.crm. */
  source: string;
  /** Entity key; also the Kafka message key. */
  subject: string;
  /** Verified identity the action is on behalf of. */
  actor: string;
  correlationId?: string | null;
  causationId?: string | null;
  tenant?: string;
  id?: string;
  /** Epoch milliseconds; default now. */
  time?: number;
  schemaVersion?: number;
}

/** A complete envelope; every field the schema has is set, so encode never relies on defaults. */
export function newEnvelope(fields: EnvelopeFields): Envelope {
  return {
    id: fields.id ?? randomUUID(),
    type: fields.type,
    source: fields.source,
    time: fields.time ?? Date.now(),
    subject: fields.subject,
    correlationId: fields.correlationId ?? null,
    causationId: fields.causationId ?? null,
    tenant: fields.tenant ?? 'default',
    actor: fields.actor,
    schemaVersion: fields.schemaVersion ?? 1,
  };
}

/**
 * A typed event: `type` is the event's Avro full name, `data` must match its generated type, so
 * a producer can't invent or misspell a field (tsc rejects it). Envelope defaults as newEnvelope.
 */
export function newEvent<N extends EventName>(
  type: N,
  envelope: Omit<EnvelopeFields, 'type'>,
  data: EventData<N>,
): HubEvent<EventData<N>> {
  return { envelope: newEnvelope({ ...envelope, type }), data };
}
