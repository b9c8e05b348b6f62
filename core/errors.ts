/**
 * The one error type of the hub. Every failure that crosses a module boundary is a HubError
 * with a stable `code`, a `retriable` flag that retry logic reads, and optional `where`
 * context (topic, partition, offset, field, line) so the message can say exactly where.
 * DLQ records, MCP tool errors and CLI messages are all rendered from it.
 */
export interface ErrorLocation {
  topic?: string;
  partition?: number;
  offset?: string;
  field?: string;
  file?: string;
  line?: number;
  subject?: string;
  [key: string]: string | number | undefined;
}

export interface HubErrorOptions {
  retriable?: boolean;
  where?: ErrorLocation;
  hint?: string;
  cause?: unknown;
}

export class HubError extends Error {
  readonly code: string;
  readonly retriable: boolean;
  readonly where: ErrorLocation;
  readonly hint: string | undefined;

  constructor(code: string, message: string, options: HubErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HubError';
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.where = options.where ?? {};
    this.hint = options.hint;
  }

  /** One line for a person: message, where it happened, and what to do. */
  describe(): string {
    const where = Object.entries(this.where)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    return [`${this.message}${where ? ` (${where})` : ''}`, this.hint ? `hint: ${this.hint}` : '']
      .filter(Boolean)
      .join('\n');
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, retriable: this.retriable, where: this.where };
  }
}

/** Wraps anything thrown into a HubError, keeping a HubError as it is. */
export function toHubError(err: unknown, code = 'INTERNAL', where?: ErrorLocation): HubError {
  if (err instanceof HubError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new HubError(code, message, { cause: err, ...(where ? { where } : {}) });
}

/** Exit codes the CLI promises to scripts. */
export const ExitCode = { ok: 0, failure: 1, usage: 2 } as const;

/** A usage error: the command line itself was wrong (exit code 2). */
export class UsageError extends HubError {
  constructor(message: string, hint?: string) {
    super('USAGE', message, hint ? { hint } : {});
    this.name = 'UsageError';
  }
}
