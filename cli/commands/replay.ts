import { userInfo } from 'node:os';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { HubError, UsageError } from '../../core/errors.ts';
import { createActionEmitter, createHubContext, type HubContext } from '../../platform/index.ts';
import {
  createTopicCheckpointStore,
  formatPosition,
  type GroupResetResult,
  parseFilters,
  parsePosition,
  type ReplayProgress,
  type ReplayResult,
  replayIdFor,
  replayInto,
  resetGroupOffsets,
} from '../../topology/replay/index.ts';

/** What tests may swap; the CLI itself uses the process environment, stdout and stderr. */
export interface ReplayCommandOptions {
  env?: NodeJS.ProcessEnv;
  write?: (text: string) => void;
  /** Where the progress bar goes (stderr by default). */
  progressStream?: NodeJS.WritableStream;
  /** The hub plumbing; built from `env` by default. */
  hubContext?: () => Promise<HubContext>;
  /** Test-only: checkpoint and audit topics of their own. */
  checkpointTopic?: string;
  actionsTopic?: string;
  /** Aborts a running replay (SIGINT by default); the replay stays resumable. */
  signal?: AbortSignal;
}

interface ReplayOpts {
  topic?: string;
  from?: string;
  to?: string;
  group?: string;
  into?: string;
  filter?: string[];
  dryRun?: boolean;
  create?: boolean;
  id?: string;
  resume?: string;
  concurrency?: string;
  json?: boolean;
}

/** Who the audit says ran the command: TRIBUTARY_ACTOR, else the operating-system user. */
export function cliActor(env: NodeJS.ProcessEnv): string {
  return env.TRIBUTARY_ACTOR ?? `cli:${userInfo().username}`;
}

function progressBar(stream: NodeJS.WritableStream) {
  const bar = new SingleBar({
    stream: stream as NodeJS.WriteStream,
    format:
      'replay |{bar}| {percentage}% {value}/{total} offsets | {written} written | {rate}/s | ETA {eta_formatted}',
    noTTYOutput: true,
    notTTYSchedule: 2000,
    etaBuffer: 50,
    hideCursor: true,
  });
  let started = 0;
  let scannedAtStart = 0;
  return {
    update(p: ReplayProgress) {
      if (!started) {
        started = Date.now();
        scannedAtStart = p.scanned;
        bar.start(p.total, p.scanned, { written: p.written, rate: 0 });
      }
      const seconds = (Date.now() - started) / 1000;
      bar.update(p.scanned, {
        written: p.written,
        rate: seconds > 0 ? Math.round((p.scanned - scannedAtStart) / seconds) : 0,
      });
    },
    stop: () => started && bar.stop(),
  };
}

function formatReset(r: GroupResetResult): string {
  const lines = r.partitions.map(
    (p) => `  ${r.topic} partition ${p.partition}: ${p.current ?? '(none)'} -> ${p.next}`,
  );
  const head = r.applied
    ? `reset group ${r.groupId} on ${r.topic} to ${r.to}`
    : `dry run: would reset group ${r.groupId} on ${r.topic} to ${r.to} (group ${r.state})`;
  const warn =
    !r.applied && r.members.length > 0
      ? [`  warning: the group has ${r.members.length} member(s); stop them before the real reset`]
      : [];
  return `${[head, ...lines, ...warn].join('\n')}\n`;
}

function formatInto(r: ReplayResult, topic: string, into: string): string {
  const rate = r.durationMs > 0 ? Math.round((r.writtenNow * 1000) / r.durationMs) : 0;
  if (r.status === 'dry-run') {
    const lines = r.ranges.map((x) => `  ${topic} partition ${x.partition}: [${x.from}, ${x.to})`);
    return `dry run: would copy ${r.matching} of ${r.total} records from ${topic} into ${into} (replay ${r.id}, partitioning ${r.partitioning})\n${lines.join('\n')}\n`;
  }
  if (r.status === 'already-finished') {
    return `replay ${r.id} already finished (${r.written} records written into ${into}); pass --id <new id> to copy again\n`;
  }
  return `replayed ${r.written} records from ${topic} into ${into}${r.resumed ? ` (resumed: ${r.writtenNow} in this run)` : ''} in ${(r.durationMs / 1000).toFixed(1)} s, ${rate}/s (replay ${r.id})\n`;
}

/** Registers `tributary replay`: reset a consumer group to a point, or copy a range into another topic. */
export function registerReplayCommands(program: Command, options: ReplayCommandOptions = {}): void {
  const env = options.env ?? process.env;
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const hubContext = options.hubContext ?? (() => createHubContext({ env }));

  program
    .command('replay')
    .description(
      'Re-deliver history: reset an inactive consumer group (--group) or copy a range into a topic (--into)',
    )
    .option('--topic <topic>', 'topic to replay')
    .option(
      '--from <position>',
      'start: earliest, latest, ISO-8601 time, epoch ms, offset:<n> or <partition>:<offset>,...',
    )
    .option(
      '--to <position>',
      'end, exclusive (--into only; default: the end of the log when the replay starts)',
    )
    .option('--group <group>', 'reset this inactive consumer group to --from')
    .option('--into <topic>', 'copy [from, to) into this existing topic, with replay headers')
    .option(
      '--filter <expr>',
      'keep only matching events: type=<envelope type>[,<type>] (repeatable)',
      collect,
      [],
    )
    .option('--create', 'create the --into topic when missing (same partition count as --topic)')
    .option('--dry-run', 'print the plan and change nothing')
    .option('--id <id>', 'replay id (--into); default derived from the arguments, so a rerun resumes')
    .option('--resume <id>', 'continue an interrupted --into replay by its id')
    .option('--concurrency <n>', 'source partitions read and written at once (--into)', '4')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nA --into replay is resumable: progress is checkpointed in the compacted topic _tributary.replays,\n' +
        'and on resume the records already in the target are found and skipped, so every source record\n' +
        'is written once per replay id. Each replay is an audit action (replay.start, replay.finished).',
    )
    .action(async (opts: ReplayOpts) => {
      if (opts.group && opts.into) throw new UsageError('give either --group or --into, not both');
      if (!opts.group && !opts.into && !opts.resume)
        throw new UsageError('give --group <group> or --into <topic>');
      if (opts.group && (opts.to || opts.filter?.length || opts.resume || opts.id || opts.create)) {
        throw new UsageError('--to, --filter, --id, --create and --resume apply to --into replays only');
      }
      const concurrency = Number(opts.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1)
        throw new UsageError('--concurrency must be a positive integer');
      const hub = await hubContext();
      const actions = createActionEmitter({
        producer: hub.producer,
        source: 'cli.replay',
        ...(options.actionsTopic ? { topic: options.actionsTopic } : {}),
      });
      const actor = cliActor(env);
      try {
        if (opts.group) {
          if (!opts.topic || !opts.from) throw new UsageError('--group needs --topic and --from');
          const result = await resetGroupOffsets({
            kafka: hub.kafka,
            groupId: opts.group,
            topic: opts.topic,
            to: parsePosition(opts.from, '--from'),
            dryRun: opts.dryRun ?? false,
            actions,
            actor,
          });
          write(opts.json ? `${JSON.stringify(result, null, 2)}\n` : formatReset(result));
          return;
        }
        await runInto(hub, opts, concurrency, actions, actor);
      } finally {
        await hub.close();
      }
    });

  async function runInto(
    hub: HubContext,
    opts: ReplayOpts,
    concurrency: number,
    actions: ReturnType<typeof createActionEmitter>,
    actor: string,
  ): Promise<void> {
    const checkpoints = createTopicCheckpointStore({
      kafka: hub.kafka,
      producer: hub.producer,
      ...(options.checkpointTopic ? { topic: options.checkpointTopic } : {}),
    });
    let { topic, into, from, to } = opts;
    let filter = parseFilters(opts.filter);
    if (opts.resume) {
      const saved = await checkpoints.load(opts.resume);
      if (!saved) {
        throw new HubError('REPLAY_NOT_FOUND', `no replay with id ${opts.resume}`, {
          hint: 'the id is printed when a replay starts or is interrupted',
        });
      }
      if ((topic && topic !== saved.topic) || (into && into !== saved.into)) {
        throw new UsageError(`replay ${opts.resume} copies ${saved.topic} into ${saved.into}`);
      }
      ({ topic, into, from, to } = saved);
      filter = { types: saved.filter };
    }
    if (!topic || !into || !from) throw new UsageError('--into needs --topic and --from');
    const controller = new AbortController();
    const onSigint = () => controller.abort(new HubError('REPLAY_INTERRUPTED', 'replay interrupted'));
    if (!options.signal) process.once('SIGINT', onSigint);
    const signal = options.signal ?? controller.signal;
    const bar = progressBar(options.progressStream ?? process.stderr);
    const fromSpec = parsePosition(from, '--from');
    const toSpec = to ? parsePosition(to, '--to') : undefined;
    const id =
      opts.resume ??
      opts.id ??
      replayIdFor({
        topic,
        into,
        from: formatPosition(fromSpec),
        to: toSpec ? formatPosition(toSpec) : 'latest',
        filter: filter.types,
      });
    try {
      const result = await replayInto({
        hub,
        checkpoints,
        topic,
        into,
        from: fromSpec,
        ...(toSpec ? { to: toSpec } : {}),
        filter,
        id,
        dryRun: opts.dryRun ?? false,
        createTarget: opts.create ?? false,
        actions,
        actor,
        concurrency,
        signal,
        onProgress: (p) => bar.update(p),
      });
      bar.stop();
      write(opts.json ? `${JSON.stringify(result, null, 2)}\n` : formatInto(result, topic, into));
    } catch (err) {
      bar.stop();
      if (signal.aborted) {
        throw new HubError('REPLAY_INTERRUPTED', `replay ${id} interrupted; its progress is saved`, {
          where: { topic },
          hint: `run the same command again, or: tributary replay --resume ${id}`,
        });
      }
      throw err;
    } finally {
      process.off('SIGINT', onSigint);
    }
  }
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
