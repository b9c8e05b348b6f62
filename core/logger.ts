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
      serializers: { err: pino.stdSerializers.errWithCause },
    },
    (options.destination as pino.DestinationStream | undefined) ?? pino.destination(2),
  );
}

/** A logger that drops everything; for tests that do not inspect logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
