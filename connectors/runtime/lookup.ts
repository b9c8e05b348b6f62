import type { Mapping } from './mapping.ts';
import type { SinkCommand } from './sink-loop.ts';

/** What a lookup found in the system: the raw record (undefined when there is none). */
export interface LookupAnswer {
  status: number;
  raw: unknown;
  systemId?: string;
}

export interface LookupCommandOptions {
  /** Dotted name, e.g. `erp.sales-order.get`. */
  name: string;
  topic: string;
  resultTopic: string;
  /** Avro full name of the `...GetResult` event. */
  resultType: string;
  /** Field of the command data echoed into the result (and its key). */
  keyField: string;
  /** The same mapping the source uses, so a looked-up record reads like its change events. */
  mapping: Mapping;
  /** Asks the system for one record; throws a HubError (retriable when transient) like a push. */
  find(data: Record<string, unknown>, signal: AbortSignal): Promise<LookupAnswer>;
}

/**
 * A query command run by the sink loop: asks the system for one record and answers with
 * `found` plus the record mapped to the hub schema. Not-found is a succeeded lookup, not a
 * failure; a record the mapping rejects fails like a bad push (result + dead letter).
 */
export function lookupCommand(options: LookupCommandOptions): SinkCommand {
  return {
    name: options.name,
    topic: options.topic,
    resultTopic: options.resultTopic,
    resultType: options.resultType,
    keyField: options.keyField,
    auditAction: 'connector.lookup',
    failedResultFields: { found: false, record: null },
    async push(data, ctx) {
      const answer = await options.find(data, ctx.signal);
      if (answer.raw === undefined || answer.raw === null) {
        return { status: answer.status, resultFields: { found: false, record: null } };
      }
      const record = options.mapping.apply(answer.raw);
      return {
        status: answer.status,
        ...(answer.systemId ? { systemId: answer.systemId } : {}),
        resultFields: { found: true, record },
      };
    },
  };
}
