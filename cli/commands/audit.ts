import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ANCHOR_TOPIC, readAnchors } from '../../audit/anchors.ts';
import type { AuditConsumer } from '../../audit/consumer.ts';
import {
  type AuditConsumerSection,
  auditDeclaration,
  createAuditComponent,
} from '../../audit/declaration.ts';
import {
  type AuditKeyRing,
  assertCanWrite,
  createKeyFile,
  generateAuditKeyFile,
  loadAuditKeyFile,
  loadAuditKeys,
  rotateKeyFile,
  verifyOnlyKeyFile,
  writeVerifyOnlyKeyFile,
} from '../../audit/keys.ts';
import { reportAction } from '../../audit/report-action.ts';
import { createSegmentStore } from '../../audit/segment-store.ts';
import { readAuditEntries } from '../../audit/show.ts';
import { openSubjectKeyFile } from '../../audit/subject-keys.ts';
import { verifyAuditDir } from '../../audit/verify-dir.ts';
import { HubError, UsageError } from '../../core/errors.ts';
import { serveStandalone, standaloneHttp } from '../../hub/standalone.ts';
import type { ComponentDeclaration, ComponentDeps } from '../../platform/declaration.ts';
import {
  ACTIONS_TOPIC,
  createHubContext,
  createKafka,
  type HubContext,
  kafkaSettingsFromEnv,
} from '../../platform/index.ts';
import { cliActor } from './replay.ts';

/** What tests may swap; the CLI itself uses the process environment and stdout/stderr. */
export interface AuditCommandOptions {
  env?: NodeJS.ProcessEnv;
  write?: (text: string) => void;
  writeErr?: (text: string) => void;
  /** Resolves when `audit run` should stop; SIGINT/SIGTERM by default. */
  stopSignal?: () => Promise<void>;
  /** The hub `forget` reports its action through; built from the environment by default. */
  hubContext?: () => Promise<HubContext>;
  /** Action topic `forget` reports to (hub.actions by default). */
  actionsTopic?: string;
  /** How long `forget` tries to reach Kafka before saying the action could not be sent. */
  emitTimeoutMs?: number;
}

interface DirOpts {
  dir?: string;
  keyFile?: string;
}

const DEFAULT_KEY_FILE = '.tributary/audit-keys.json';

/** Registers `tributary audit run | verify | show | init | rotate-key | forget | export-keys`. */
export function registerAuditCommands(program: Command, options: AuditCommandOptions = {}): void {
  const env = options.env ?? process.env;
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const writeErr = options.writeErr ?? ((text: string) => void process.stderr.write(text));
  const dirOf = (o: DirOpts) => resolve(o.dir ?? env.TRIBUTARY_AUDIT_DIR ?? '.tributary/audit');
  const keyFileOf = (o: DirOpts): string | undefined => {
    if (o.keyFile) return o.keyFile;
    if (env.TRIBUTARY_AUDIT_KEYS || env.TRIBUTARY_AUDIT_KEY_FILE) return undefined;
    // The file `audit init` writes, only if it exists: there is never a made-up key.
    return existsSync(DEFAULT_KEY_FILE) ? DEFAULT_KEY_FILE : undefined;
  };
  const keysOf = (o: DirOpts): Promise<AuditKeyRing> => loadAuditKeys({ keyFile: keyFileOf(o), env });

  const group = program
    .command('audit')
    .description('The audit: an encrypted, hash-chained, signed record of every hub action');
  const withDir = (cmd: Command) =>
    cmd
      .option('--dir <dir>', 'audit store folder (TRIBUTARY_AUDIT_DIR, default .tributary/audit)')
      .option(
        '--key-file <path>',
        `key file (else TRIBUTARY_AUDIT_KEY_FILE, TRIBUTARY_AUDIT_KEYS, ${DEFAULT_KEY_FILE})`,
      );

  withDir(group.command('run'))
    .description('Run the audit consumer: record hub.actions into the chains until Ctrl-C')
    .option('--topic <topic>', 'action topic', ACTIONS_TOPIC)
    .option('--group <group>', 'consumer group', 'tributary.audit')
    .option(
      '--metrics-port <port>',
      'health/readiness/metrics port (TRIBUTARY_METRICS_PORT; default 0, a free one)',
    )
    .option('--threads <n>', 'worker threads, each writing the chains of its share of the partitions', '1')
    .action(
      async (opts: DirOpts & { topic: string; group: string; metricsPort?: string; threads: string }) => {
        const threads = Number(opts.threads);
        if (!Number.isInteger(threads) || threads < 1 || threads > 64)
          throw new UsageError(`--threads must be a whole number from 1 to 64, not "${opts.threads}"`);
        const keys = await keysOf(opts);
        assertCanWrite(keys); // refused before anything touches Kafka
        const dir = dirOf(opts);
        let consumer: AuditConsumer | undefined;
        // The declared audit component, over the keys this command loaded (key file default
        // included); threads load them from that same file, or else from the environment.
        const declaration = {
          ...auditDeclaration,
          create: (config: AuditConsumerSection, deps: ComponentDeps) => {
            consumer = createAuditComponent(config, deps, keys);
            return consumer;
          },
        } as unknown as ComponentDeclaration;
        const keyFile = keyFileOf(opts);
        await serveStandalone({
          name: 'audit',
          env,
          declarations: [declaration],
          sections: {
            audit: {
              dir,
              topic: opts.topic,
              groupId: opts.group,
              threads,
              ...(keyFile ? { keyFile: resolve(keyFile) } : {}),
            },
          },
          http: standaloneHttp(env, opts.metricsPort),
          say: (line) => writeErr(`tributary: ${line}\n`),
          onReady: () => {
            if (keys.development) writeErr('audit: WARNING: running with a DEVELOPMENT key file\n');
            writeErr(`audit: recording ${opts.topic} into ${dir} (Ctrl-C to stop)\n`);
          },
          // Stops on a signal, or with the error that stopped the consumer.
          until: () =>
            Promise.race([
              (options.stopSignal ?? untilSignal)().then(() => 'stop'),
              (consumer as AuditConsumer).failed(),
            ]),
        });
        writeErr(`audit: stopped after recording ${consumer?.status().recorded ?? 0} actions\n`);
      },
    );

  withDir(group.command('verify'))
    .description('Check hashes, sequence, signatures and checkpoints; exit 1 naming the first bad entry')
    .option('--decrypt', 'also decrypt and authenticate every entry body')
    .option(
      '--anchors',
      `also check against the checkpoints anchored in Kafka (${ANCHOR_TOPIC}; KAFKA_BROKERS)`,
    )
    .option('--topic <topic>', 'action topic whose anchors to read', ACTIONS_TOPIC)
    .option('--anchor-topic <topic>', 'anchor topic', ANCHOR_TOPIC)
    .option('--json', 'print the result as JSON')
    .action(
      async (
        opts: DirOpts & {
          decrypt?: boolean;
          json?: boolean;
          anchors?: boolean;
          topic: string;
          anchorTopic: string;
        },
      ) => {
        const dir = dirOf(opts);
        let anchorCount: number | undefined;
        const result = await verifyAuditDir({
          dir,
          keys: await keysOf(opts),
          decrypt: opts.decrypt ?? false,
          ...(opts.anchors
            ? {
                anchors: async () => {
                  const anchors = await readAnchors(
                    createKafka(kafkaSettingsFromEnv(env)),
                    opts.topic,
                    opts.anchorTopic,
                  );
                  anchorCount = anchors.size;
                  return anchors;
                },
                anchorOrigin: `kafka topic ${opts.anchorTopic}`,
              }
            : {}),
        });
        if (!result) {
          throw new HubError('AUDIT_NO_CHAINS', 'no audit chain in this folder', {
            where: { file: dir },
            hint: 'check --dir',
          });
        }
        if (opts.json) write(`${JSON.stringify(result, null, 2)}\n`);
        else {
          for (const c of result.chains) {
            write(
              `chain ${c.chain}: ${c.entries} entries ok, ${c.checkpoints} checkpoints (last at seq ${c.lastCheckpointSeq}, ${c.unsealed} after it)` +
                (opts.decrypt ? `, ${c.decrypted} decrypted, ${c.forgotten} forgotten` : '') +
                '\n',
            );
          }
        }
        if (!result.ok) {
          const p = result.problem;
          throw new HubError(
            'AUDIT_VERIFY_FAILED',
            `chain ${p.chain} entry seq ${p.seq ?? '?'}: ${p.reason}: ${p.message}`,
            {
              where: { chain: p.chain, seq: p.seq ?? undefined, file: p.file, line: p.line },
            },
          );
        }
        if (!opts.json)
          write(`verify: ok${anchorCount !== undefined ? ` (${anchorCount} anchored chains agree)` : ''}\n`);
      },
    );

  withDir(group.command('show'))
    .description('List entries (metadata in clear; bodies with --decrypt)')
    .option('--decrypt', 'decrypt the bodies (needs the key)')
    .option('--actor <actor>', 'only this actor')
    .option('--since <time>', 'only entries from this time on: ISO time or a duration ago (30m, 12h, 7d)')
    .option('--chain <id>', 'only this chain (partition)')
    .option('--json', 'one JSON object per line')
    .action(
      async (
        opts: DirOpts & { decrypt?: boolean; actor?: string; since?: string; chain?: string; json?: boolean },
      ) => {
        const dir = dirOf(opts);
        const since = opts.since === undefined ? undefined : parseSince(opts.since);
        let decrypt:
          | { keys: AuditKeyRing; subjectKeys: Awaited<ReturnType<typeof openSubjectKeyFile>> }
          | undefined;
        if (opts.decrypt) {
          const keys = await keysOf(opts);
          decrypt = { keys, subjectKeys: await openSubjectKeyFile(join(dir, 'subject-keys.json'), keys) };
        }
        const entries = readAuditEntries(createSegmentStore({ dir }), {
          actor: opts.actor,
          since,
          chains: opts.chain === undefined ? undefined : [opts.chain],
          decrypt,
        });
        for await (const { chain, entry, body } of entries) {
          if (opts.json) {
            write(`${JSON.stringify({ chain, ...entry, ...(body === undefined ? {} : { body }) })}\n`);
            continue;
          }
          const clear = `${chain}:${entry.seq} ${entry.time} ${entry.outcome.padEnd(9)} ${entry.action} actor=${entry.actor} resource=${entry.resource}`;
          const secret =
            body === undefined
              ? ''
              : body === 'forgotten'
                ? ' [forgotten]'
                : ` details=${JSON.stringify(body.details)}${body.argsDigest ? ` args=${body.argsDigest}` : ''}${body.subjectId ? ` subject=${body.subjectId}` : ''}`;
          write(`${clear}${secret}\n`);
        }
      },
    );

  group
    .command('init')
    .description('Create a DEVELOPMENT key file (mode 0600); never overwrites one')
    .option('--key-file <path>', 'where to write it', DEFAULT_KEY_FILE)
    .action(async (opts: { keyFile: string }) => {
      await createKeyFile(opts.keyFile, generateAuditKeyFile({ development: true }));
      writeErr(
        [
          '',
          '  *** DEVELOPMENT AUDIT KEY FILE ***',
          `  Created ${opts.keyFile} (mode 0600): encryption and signing keys in plain text on this disk.`,
          '  Use it for development only. In production provision keys from a secret store and pass them',
          '  as TRIBUTARY_AUDIT_KEY_FILE or TRIBUTARY_AUDIT_KEYS. Losing this file makes the audit unreadable.',
          '',
        ].join('\n'),
      );
      write(`${opts.keyFile}\n`);
    });

  group
    .command('rotate-key')
    .description('Add a new current encryption key (old keys are kept for reading)')
    .option('--key-file <path>', 'key file to rotate (else TRIBUTARY_AUDIT_KEY_FILE or the init default)')
    .option('--signing', 'also add a new current checkpoint signing key')
    .action(async (opts: { keyFile?: string; signing?: boolean }) => {
      const path =
        opts.keyFile ??
        env.TRIBUTARY_AUDIT_KEY_FILE ??
        (existsSync(DEFAULT_KEY_FILE) ? DEFAULT_KEY_FILE : undefined);
      if (!path)
        throw new UsageError(
          'rotate-key needs a key file',
          'pass --key-file or set TRIBUTARY_AUDIT_KEY_FILE',
        );
      const ids = await rotateKeyFile(path, { signing: opts.signing ?? false });
      write(`encryption key ${ids.encryptionKeyId}\nsigning key ${ids.signingKeyId}\n`);
    });

  withDir(group.command('forget'))
    .description("Destroy a data subject's key: its entries become unreadable, the chain still verifies")
    .argument('<subject>', 'data subject id as the components reported it')
    .action(async (subject: string, opts: DirOpts) => {
      const dir = dirOf(opts);
      const keys = await keysOf(opts);
      const store = await openSubjectKeyFile(join(dir, 'subject-keys.json'), keys);
      const id = await store.forget(subject);
      write(
        id
          ? `forgot subject key ${id}: its entries now show as [forgotten]\n`
          : 'no entry was encrypted for this subject; nothing to forget\n',
      );
      // The subject id itself stays out of the action: it is the personal data being forgotten.
      const sent = await reportAction(
        options.hubContext ?? (() => createHubContext({ env })),
        {
          action: 'audit.forget',
          actor: cliActor(env),
          resource: 'audit.subject-keys',
          outcome: 'succeeded',
          details: { subjectKeyId: id ?? '', forgotten: id !== null },
        },
        {
          source: 'cli.audit',
          timeoutMs: options.emitTimeoutMs ?? 10_000,
          ...(options.actionsTopic ? { topic: options.actionsTopic } : {}),
        },
      );
      write(
        sent.ok
          ? 'reported as an audit.forget action\n'
          : `the audit.forget action could not be sent (${sent.reason}); the key is forgotten all the same\n`,
      );
    });

  group
    .command('export-keys')
    .description('Write a copy of the key file for auditors: public signing keys, no private key')
    .requiredOption('--out <path>', 'file to write (never overwritten)')
    .option('--verify-only', 'no private signing key (the only kind of export there is; for clarity)')
    .option('--decrypt', 'include the encryption keys, so verify --decrypt and show --decrypt work')
    .option('--key-file <path>', 'key file to export (else TRIBUTARY_AUDIT_KEY_FILE, TRIBUTARY_AUDIT_KEYS)')
    .action(async (opts: { out: string; decrypt?: boolean; keyFile?: string }) => {
      const file = await loadAuditKeyFile({ keyFile: keyFileOf(opts), env });
      const copy = verifyOnlyKeyFile(file, { decrypt: opts.decrypt ?? false });
      await writeVerifyOnlyKeyFile(opts.out, copy);
      write(
        `${opts.out}: ${copy.signing.keys.length} public signing key(s)` +
          (opts.decrypt ? `, ${copy.encryption.keys.length} encryption key(s) (keep it secret)` : '') +
          '\n',
      );
    });
}

/** `--since`: an ISO time or a duration ago like 30m, 12h, 7d. */
export function parseSince(text: string, now = Date.now()): number {
  const ago = /^(\d+)([smhd])$/.exec(text);
  if (ago) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[ago[2] as 's' | 'm' | 'h' | 'd'];
    return now - Number(ago[1]) * unit;
  }
  const at = Date.parse(text);
  if (Number.isNaN(at))
    throw new UsageError(`--since ${text} is neither a time nor a duration`, 'e.g. 2026-01-31T12:00Z or 12h');
  return at;
}

function untilSignal(): Promise<void> {
  return new Promise((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
