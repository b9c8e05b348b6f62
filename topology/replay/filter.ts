import { UsageError } from '../../core/errors.ts';
import { EventHeaders, headerText, type RawHeaders } from '../../platform/index.ts';
import type { Serde } from '../../schemas/index.ts';

/** Which events a replay keeps: any of the listed envelope types (empty = everything). */
export interface EventFilter {
  types: string[];
}

/** Parses `--filter type=A` options (repeatable; `type=A,B` means A or B). */
export function parseFilters(values: readonly string[] | undefined): EventFilter {
  const types: string[] = [];
  for (const value of values ?? []) {
    const match = /^type=(.+)$/.exec(value.trim());
    if (!match?.[1]) {
      throw new UsageError(
        `unknown filter "${value}"`,
        'use --filter type=<envelope type>, e.g. --filter type=tributary.crm.ContactChanged',
      );
    }
    types.push(
      ...match[1]
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean),
    );
  }
  return { types: [...new Set(types)] };
}

/** A record as the filter sees it. */
export interface FilterInput {
  topic: string;
  partition: number;
  offset: string;
  value: Buffer | null;
  headers: RawHeaders;
}

/**
 * The envelope type of a record: the `tributary.event.type` header the hub's producer writes,
 * or else the decoded envelope (records written by other clients). Undefined when neither
 * says (tombstones, foreign bytes): such records never match a type filter.
 */
export async function eventTypeOf(record: FilterInput, serde?: Serde): Promise<string | undefined> {
  const fromHeader = headerText(record.headers, EventHeaders.eventType);
  if (fromHeader) return fromHeader;
  if (!record.value || !serde) return undefined;
  try {
    const decoded = await serde.decode(record.value, record);
    const envelope = (decoded.value as { envelope?: { type?: unknown } } | null)?.envelope;
    return typeof envelope?.type === 'string' ? envelope.type : decoded.schemaName;
  } catch {
    return undefined;
  }
}

/** True when the record passes the filter. */
export async function matchesFilter(
  filter: EventFilter,
  record: FilterInput,
  serde?: Serde,
): Promise<boolean> {
  if (filter.types.length === 0) return true;
  const type = await eventTypeOf(record, serde);
  return type !== undefined && filter.types.includes(type);
}
