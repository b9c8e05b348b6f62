import { pino } from 'pino';

/** Keys whose values never reach a log line. */
export const redactedPaths = [
  'password',
  'secret',
  'token',
  'authorization',
  'apiKey',
  'clientSecret',
  '*.password',
  '*.secret',
  '*.token',
  '*.authorization',
  '*.apiKey',
  '*.clientSecret',
  'headers.authorization',
];

export type Logger = pino.Logger;

/** The key names `redactedPaths` covers, compared without case, for an error's nested fields. */
const secretKeys = new Set(redactedPaths.filter((p) => !p.includes('.')).map((k) => k.toLowerCase()));
const SCRUB_DEPTH = 8;

/**
 * A copy of `value` with the value of every secret-named key, at any depth, replaced. Redaction
 * paths reach two levels; an error reaches further: a library error can carry its request
 * (`err.cause.config.headers.Authorization`) or the options it was given. Copies what it walks,
 * so the error the caller holds is left as it was; values that serialize themselves (`toJSON`:
 * dates, buffers, URLs) are left as they are.
 */
function scrubSecrets(value: unknown, depth = 0, ancestors = new Set<object>()): unknown {
  if (value === null || typeof value !== 'object') return value;
  // Past pino's own depth limit (5) nothing is printed; a cycle is printed as pino prints it.
  if (depth > SCRUB_DEPTH) return '[Object]';
  if (ancestors.has(value)) return '[Circular]';
  if (ArrayBuffer.isView(value) || typeof (value as { toJSON?: unknown }).toJSON === 'function') return value;
  ancestors.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => scrubSecrets(item, depth + 1, ancestors));
    const copy = Object.create(Object.getPrototypeOf(value) as object | null) as Record<string, unknown>;
    for (const [key, item] of Object.entries(value)) {
      copy[key] = secretKeys.has(key.toLowerCase()) ? '[redacted]' : scrubSecrets(item, depth + 1, ancestors);
    }
    return copy;
  } finally {
    ancestors.delete(value);
  }
}

/** pino's errWithCause (the cause as an object of its own), then the secrets scrubbed at any depth. */
function serializeError(err: unknown): unknown {
  return scrubSecrets(pino.stdSerializers.errWithCause(err as Error));
}

/** Fields naming the active trace (`trace_id`, `span_id`); set by platform/tracing.ts. */
let correlation: () => Record<string, string> | undefined = () => undefined;

/** Lets the tracing layer add the active trace to every log line (pino mixin). */
export function setLogCorrelation(fields: () => Record<string, string> | undefined): void {
  correlation = fields;
}

/** Structured JSON logger (pino) with secrets redacted. Level from TRIBUTARY_LOG_LEVEL. */
export function createLogger(
  name: string,
  options: { level?: string; destination?: NodeJS.WritableStream } = {},
): Logger {
  const level = options.level ?? process.env.TRIBUTARY_LOG_LEVEL ?? 'info';
  return pino(
    {
      name,
      level,
      redact: { paths: redactedPaths, censor: '[redacted]' },
      base: { component: name },
      mixin: () => correlation() ?? {},
      // An error's cause is logged as an object of its own (its message, code, stack), not folded
      // into the error's message: ours already name their cause, which pino's default repeated.
      // Secrets anywhere inside it are scrubbed (redaction paths reach two levels).
      serializers: { err: serializeError },
    },
    (options.destination as pino.DestinationStream | undefined) ?? pino.destination(2),
  );
}

/** A logger that drops everything; for tests that do not inspect logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
