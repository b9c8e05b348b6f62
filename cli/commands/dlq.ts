import type { Command } from 'commander';
import { HubError, UsageError } from '../../core/errors.ts';
import { createOffsetAdmin } from '../../platform/group-offsets.ts';
import { createActionEmitter, createHubContext, type HubContext } from '../../platform/index.ts';
import {
  createRedriveMarkers,
  type DeadLetterView,
  dlqTopicName,
  listDeadLetterTopics,
  parseWhere,
  type RedriveResult,
  readDeadLetters,
  redriveDeadLetters,
} from '../../topology/dlq/index.ts';
import { cliActor } from './replay.ts';

/** What tests may swap; the CLI itself uses the process environment and stdout. */
export interface DlqCommandOptions {
  env?: NodeJS.ProcessEnv;
  write?: (text: string) => void;
  /** The hub plumbing; built from `env` by default. */
  hubContext?: () => Promise<HubContext>;
  /** Test-only: marker and audit topics of their own. */
  markersTopic?: string;
  actionsTopic?: string;
}

const bigintAsText = (_key: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);
const json = (value: unknown) => `${JSON.stringify(value, bigintAsText, 2)}\n`;

function positiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new UsageError(`${name} must be a positive integer, not "${value}"`);
  return n;
}

/** A dead letter without its raw bytes, as `show --json` prints it. */
function printable(v: DeadLetterView) {
  const { raw: _raw, ...rest } = v;
  return rest;
}

function formatLetter(v: DeadLetterView): string {
  const time = new Date(Number(v.timestamp)).toISOString();
  const head = v.info
    ? `${v.topic} ${v.partition}/${v.offset} ${time} ${v.info.errorCode} (stage ${v.info.stage}) from ${v.info.originalTopic}/${v.info.originalPartition}/${v.info.originalOffset}`
    : `${v.topic} ${v.partition}/${v.offset} ${time} (no dead-letter headers)`;
  const lines = [
    head,
    ...(v.info
      ? [`  reason: ${v.info.errorMessage.replace(/\n/g, ' ')}`, `  failed at: ${v.info.time}`]
      : []),
    `  event: ${v.eventType ?? '?'} id=${v.eventId ?? '?'} key=${v.key ?? '(none)'}${v.redriveCount > 0 ? ` redriven ${v.redriveCount}x before` : ''}`,
    v.decoded !== undefined
      ? `  value: ${JSON.stringify(v.decoded, bigintAsText).slice(0, 400)}`
      : `  value: not decodable${v.decodeError ? ` (${v.decodeError})` : ''}`,
  ];
  return `${lines.join('\n')}\n`;
}

function formatRedrive(r: RedriveResult): string {
  const verb = r.dryRun ? 'would redrive' : 'redrove';
  const lines = r.records.map(
    (x) =>
      `  ${r.topic} ${x.partition}/${x.offset} ${x.errorCode} (stage ${x.stage}) -> ${x.target}${x.targetOffset ? ` ${x.targetPartition}/${x.targetOffset}` : ''}`,
  );
  const skipped = [
    r.alreadyRedriven > 0 ? `${r.alreadyRedriven} already redriven` : '',
    r.notDeadLetters > 0 ? `${r.notDeadLetters} without dead-letter headers` : '',
  ].filter(Boolean);
  return `${r.dryRun ? 'dry run: ' : ''}${verb} ${r.records.length} of ${r.considered} records from ${r.topic}${skipped.length ? ` (skipped: ${skipped.join(', ')})` : ''}\n${lines.join('\n')}${lines.length ? '\n' : ''}`;
}

/** Registers `tributary dlq list | show | redrive`. */
export function registerDlqCommands(program: Command, options: DlqCommandOptions = {}): void {
  const env = options.env ?? process.env;
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const hubContext = options.hubContext ?? (() => createHubContext({ env }));

  async function withHub<T>(fn: (hub: HubContext) => Promise<T>): Promise<T> {
    const hub = await hubContext();
    try {
      return await fn(hub);
    } finally {
      await hub.close();
    }
  }

  async function requireTopic(hub: HubContext, topic: string): Promise<void> {
    const admin = createOffsetAdmin(hub.kafka);
    await admin.start();
    try {
      if (!(await admin.topicExists(topic))) {
        throw new HubError('DLQ_TOPIC_MISSING', `dead-letter topic ${topic} does not exist`, {
          where: { topic },
          hint: 'tributary dlq list shows the dead-letter topics',
        });
      }
    } finally {
      await admin.close();
    }
  }

  const markersOf = (hub: HubContext) =>
    createRedriveMarkers({
      kafka: hub.kafka,
      producer: hub.producer,
      ...(options.markersTopic ? { topic: options.markersTopic } : {}),
    });

  const group = program
    .command('dlq')
    .description('Dead letters (<topic>.dlq): list them, show why they failed, send fixed ones back');

  group
    .command('list')
    .description('Dead-letter topics with their record counts and how many were already redriven')
    .option('--topic <topic...>', 'only these topics (source or .dlq names)')
    .option('--json', 'print JSON')
    .action(async (opts: { topic?: string[]; json?: boolean }) => {
      await withHub(async (hub) => {
        const admin = createOffsetAdmin(hub.kafka);
        await admin.start();
        try {
          const redriven = await markersOf(hub).counts();
          const topics = await listDeadLetterTopics(admin, opts.topic, redriven);
          if (opts.json) return write(json(topics));
          if (topics.length === 0) return write('no dead-letter topics\n');
          write(
            `${topics.map((t) => `${t.topic}  ${t.records} record(s), ${t.redriven ?? 0} redriven  from ${t.source}`).join('\n')}\n`,
          );
        } finally {
          await admin.close();
        }
      });
    });

  group
    .command('show')
    .description('Dead letters of a topic: reason code, message, stage, origin, time and the decoded event')
    .requiredOption('--topic <topic>', 'the .dlq topic (or its source topic)')
    .option('--limit <n>', 'at most this many per partition, oldest first', '20')
    .option('--json', 'print JSON')
    .action(async (opts: { topic: string; limit: string; json?: boolean }) => {
      const limit = positiveInt('--limit', opts.limit);
      const topic = dlqTopicName(opts.topic);
      await withHub(async (hub) => {
        await requireTopic(hub, topic);
        const admin = createOffsetAdmin(hub.kafka);
        await admin.start();
        try {
          const letters = await readDeadLetters({ kafka: hub.kafka, admin, topic, serde: hub.serde, limit });
          if (opts.json) return write(json(letters.map(printable)));
          if (letters.length === 0) return write(`${topic} is empty\n`);
          write(letters.map(formatLetter).join(''));
        } finally {
          await admin.close();
        }
      });
    });

  group
    .command('redrive')
    .description('Send dead letters back to their source topic (each one once; audited per record)')
    .requiredOption('--topic <topic>', 'the .dlq topic (or its source topic)')
    .option('--where <cond>', 'code=<error code> or stage=<stage> (repeatable; all must hold)', collect, [])
    .option('--dry-run', 'print what would be sent and send nothing')
    .option('--json', 'print JSON')
    .action(async (opts: { topic: string; where: string[]; dryRun?: boolean; json?: boolean }) => {
      const where = parseWhere(opts.where);
      const topic = dlqTopicName(opts.topic);
      await withHub(async (hub) => {
        await requireTopic(hub, topic);
        const result = await redriveDeadLetters({
          hub,
          markers: markersOf(hub),
          topic,
          where,
          dryRun: opts.dryRun ?? false,
          actions: createActionEmitter({
            producer: hub.producer,
            source: 'cli.dlq',
            ...(options.actionsTopic ? { topic: options.actionsTopic } : {}),
          }),
          actor: cliActor(env),
        });
        write(opts.json ? json(result) : formatRedrive(result));
      });
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
