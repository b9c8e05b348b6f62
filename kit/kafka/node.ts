import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HubError } from '../../core/errors.ts';
import { isProcessAlive, lastLinesOf, spawnDetached, stopProcess } from '../process.ts';
import { type KafkaNodeLayout, log4j2Properties, serverProperties } from './config.ts';
import { type KafkaClusterState, type KafkaNodeState, nodeMarker } from './state.ts';

const execFileAsync = promisify(execFile);

/**
 * Broker JVM options: a small heap, the serial collector and the C1 compiler only. A laptop or
 * CI box runs up to three brokers next to the tests; measured on a loaded 2-core machine this
 * cuts a 3-node start from ~28 s to ~17 s, at some cost in peak throughput. Benchmarks can
 * set TRIBUTARY_KAFKA_JAVA_OPTS (space separated) to use the JVM defaults instead.
 */
export const defaultJavaOptions = [
  '-Xms128m',
  '-Xmx512m',
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-XX:+ExitOnOutOfMemoryError',
];

/** JVM options for the brokers: TRIBUTARY_KAFKA_JAVA_OPTS when set, else the defaults above. */
export function brokerJavaOptions(env: NodeJS.ProcessEnv = process.env): string[] {
  const fromEnv = env.TRIBUTARY_KAFKA_JAVA_OPTS?.trim();
  return fromEnv ? fromEnv.split(/\s+/) : defaultJavaOptions;
}

function propertiesFile(node: KafkaNodeLayout): string {
  return join(node.dir, 'server.properties');
}

/** Writes a node's server.properties and log4j2 config (every start, so edits here apply). */
export async function writeNodeConfig(
  node: KafkaNodeLayout,
  all: KafkaNodeLayout[],
  extra?: Record<string, string | number | boolean>,
): Promise<void> {
  await mkdir(join(node.dir, 'logs'), { recursive: true });
  await mkdir(join(node.dir, 'data'), { recursive: true });
  await writeFile(propertiesFile(node), serverProperties(node, all, extra));
  await writeFile(join(node.dir, 'log4j2.properties'), log4j2Properties(node.logFile));
}

/** True when the node's log dir was formatted before (meta.properties exists). */
export function nodeFormatted(node: KafkaNodeLayout): boolean {
  return existsSync(join(node.dir, 'data', 'meta.properties'));
}

/** Formats a node's storage for the cluster id (kafka-storage format), once. */
export async function formatNode(state: KafkaClusterState, node: KafkaNodeLayout): Promise<void> {
  if (nodeFormatted(node)) return;
  try {
    await execFileAsync(
      state.java,
      [
        '-Xmx256m',
        '-cp',
        `${state.libsDir}/*`,
        `-Dlog4j2.configurationFile=${join(node.dir, 'log4j2.properties')}`,
        'kafka.tools.StorageTool',
        'format',
        '-t',
        state.clusterId,
        '-c',
        propertiesFile(node),
      ],
      { cwd: node.dir, timeout: 120_000 },
    );
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new HubError(
      'KIT_KAFKA_FORMAT_FAILED',
      `Formatting the storage of Kafka node ${node.id} failed:\n${`${e.stdout ?? ''}${e.stderr ?? ''}`.trim() || e.message}`,
      {
        where: { node: node.id, dir: node.dir },
        hint: 'delete the data folder (tributary kafka down --purge) and start again',
      },
    );
  }
}

/** Starts a node's broker JVM in the background; returns its pid. */
export function spawnNode(
  state: KafkaClusterState,
  node: KafkaNodeLayout,
  javaOptions: string[],
): Promise<number> {
  return spawnDetached({
    command: state.java,
    args: [
      ...javaOptions,
      nodeMarker(state, node.id),
      `-Dlog4j2.configurationFile=${join(node.dir, 'log4j2.properties')}`,
      '-Djava.awt.headless=true',
      '-cp',
      `${state.libsDir}/*`,
      'kafka.Kafka',
      propertiesFile(node),
    ],
    cwd: node.dir,
    outputFile: node.outputFile,
  });
}

/** True when the node's recorded pid is a live broker of this cluster. */
export function nodeAlive(state: KafkaClusterState, node: KafkaNodeState): boolean {
  return node.pid !== null && isProcessAlive(node.pid, nodeMarker(state, node.id));
}

/** Stops a node: SIGTERM (controlled shutdown), SIGKILL after `graceMs`. */
export async function stopNode(
  state: KafkaClusterState,
  node: KafkaNodeState,
  graceMs = 30_000,
): Promise<'not-running' | 'stopped' | 'killed'> {
  if (!nodeAlive(state, node) || node.pid === null) return 'not-running';
  return stopProcess(node.pid, { graceMs });
}

/** The last lines a node wrote (broker log, then the JVM's own output), for error messages. */
export async function nodeLogTail(node: KafkaNodeLayout, lines = 20): Promise<string> {
  const [log, output] = await Promise.all([
    lastLinesOf(node.logFile, lines),
    lastLinesOf(node.outputFile, lines),
  ]);
  return [log && `--- ${node.logFile}\n${log}`, output && `--- ${node.outputFile}\n${output}`]
    .filter(Boolean)
    .join('\n');
}

/**
 * The first ERROR or FATAL lines of a node's broker log, each with the line after it (the
 * exception's cause), so a start that failed early is explained even when the log ends with
 * pages of shutdown lines.
 */
export async function nodeLogErrors(node: KafkaNodeLayout, max = 6): Promise<string[]> {
  const text = await readFile(node.logFile, 'utf8').catch(() => '');
  const lines = text.split('\n');
  const found: string[] = [];
  for (let i = 0; i < lines.length && found.length < max; i++) {
    if (/^\[[^\]]+\] (ERROR|FATAL) /.test(lines[i]!)) {
      const next = lines[i + 1] ?? '';
      found.push(/^\s*(\w+\.)+\w+(Exception|Error)\b/.test(next) ? `${lines[i]}\n${next}` : lines[i]!);
    }
  }
  return found;
}

/** True when a node's log says one of its ports was taken by the time it tried to listen. */
export function portTakenIn(errors: string[]): boolean {
  return errors.some((e) => /Address already in use|BindException/.test(e));
}
