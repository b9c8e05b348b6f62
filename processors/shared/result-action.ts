import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { HubError } from '../../core/errors.ts';
import type { ActionEmitter } from '../../platform/index.ts';
import type { Envelope } from '../../schemas/index.ts';

/** The audit action every processor result is reported under. */
export const PROCESSOR_RESULT_ACTION = 'processor.result';

type Details = Record<string, string | number | boolean>;

// Request fields that name *what kind* of work was asked for. Everything else (texts, prompts,
// hints, chart data, speaker parts) may carry personal data and stays out of the audit details.
const kindFields = ['analyses', 'chartType', 'format', 'provider', 'language', 'voice'];

/** Lower-case hex SHA-256 of the RFC 8785 JSON of a request's data (the audit's argsDigest). */
export function requestDigest(data: unknown): string {
  // Avro longs may decode as bigint, which JSON has no form for: digest them as decimal strings.
  const plain = JSON.parse(JSON.stringify(data ?? {}, (_, v) => (typeof v === 'bigint' ? v.toString() : v)));
  return createHash('sha256')
    .update(canonicalize(plain) ?? '')
    .digest('hex');
}

function isBlobRef(value: unknown): value is { size: number; mediaType: string } {
  const v = value as { size?: unknown; mediaType?: unknown; sha256?: unknown } | null;
  return typeof v === 'object' && v !== null && typeof v.sha256 === 'string' && typeof v.size === 'number';
}

/**
 * A small, non-sensitive summary of a request for the audit details: the kind fields above,
 * size and media type of each blob reference, and the length of every list of records.
 */
export function requestSummary(data: unknown): Details {
  const details: Details = {};
  if (typeof data !== 'object' || data === null) return details;
  for (const [name, value] of Object.entries(data)) {
    if (kindFields.includes(name)) {
      if (typeof value === 'string') details[name] = value;
      else if (Array.isArray(value) && value.every((v) => typeof v === 'string'))
        details[name] = value.join(',');
    } else if (isBlobRef(value)) {
      details[`${name}.size`] = value.size;
      details[`${name}.mediaType`] = value.mediaType;
    } else if (Array.isArray(value) && value.some((v) => typeof v === 'object' && v !== null)) {
      details[`${name}.count`] = value.length;
    }
  }
  return details;
}

/** What a processor reports for one result. */
export interface ResultActionInput {
  command: string;
  request: Envelope;
  data: unknown;
  /** Absent for a succeeded result. */
  error?: HubError;
  durationMs: number;
}

/**
 * Reports processor results to the audit as `processor.result` actions: on whose behalf
 * (the request's actor), which request (`<processor>/<request id>`), how it ended, the digest
 * of the request data and a summary without personal data.
 */
export function createResultReporter(emitter: ActionEmitter, processor: string) {
  return {
    /** Emits the action; resolves with its event id once the broker acknowledged it. */
    report(input: ResultActionInput): Promise<string> {
      const { request, error } = input;
      const details: Details = {
        command: input.command,
        durationMs: Math.round(input.durationMs),
        ...requestSummary(input.data),
      };
      if (error) {
        details.errorCode = error.code;
        details.retriable = error.retriable;
      }
      return emitter.emit({
        action: PROCESSOR_RESULT_ACTION,
        actor: request.actor,
        resource: `${processor}/${request.id}`,
        outcome: error ? 'failed' : 'succeeded',
        correlationId: request.correlationId ?? request.id,
        causationId: request.id,
        tenant: request.tenant,
        argsDigest: requestDigest(input.data),
        details,
      });
    },
  };
}

export type ResultReporter = ReturnType<typeof createResultReporter>;
