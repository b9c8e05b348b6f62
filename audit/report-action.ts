import { type ActionInput, createActionEmitter, type HubContext } from '../platform/index.ts';

export type ReportResult = { ok: true; eventId: string } | { ok: false; reason: string };

/**
 * Reports one action from a command line tool, best effort and bounded in time: the tools work
 * offline (a forgotten key stays forgotten) and say when the action could not be sent.
 */
export async function reportAction(
  hubContext: () => Promise<HubContext>,
  input: ActionInput,
  options: { source: string; topic?: string; timeoutMs: number },
): Promise<ReportResult> {
  let hub: HubContext | undefined;
  const attempt = (async () => {
    hub = await hubContext();
    const emitter = createActionEmitter({
      producer: hub.producer,
      source: options.source,
      ...(options.topic ? { topic: options.topic } : {}),
    });
    return await emitter.emit(input);
  })();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Kafka not reached within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
  });
  try {
    return { ok: true, eventId: await Promise.race([attempt, timeout]) };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
    // A connection still being retried is closed once it gives up, not waited for.
    const closing = attempt.then(
      () => hub?.close(),
      () => hub?.close(),
    );
    closing.catch(() => {});
  }
}
