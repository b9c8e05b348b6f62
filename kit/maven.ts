import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { HubError } from '../core/errors.ts';
import { findOnPath } from './java.ts';

/** A Maven coordinate, group:artifact:version. */
export type MavenCoordinate = `${string}:${string}:${string}`;

export interface FetchArtifactsOptions {
  /** Artifacts to fetch; their runtime dependencies come along. */
  artifacts: MavenCoordinate[];
  /** Folder that receives the jars. Filled atomically: it exists only once complete. */
  outputDir: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
  /** Extra Maven arguments (e.g. `-o` for offline, `-s <settings.xml>`). */
  mavenArgs?: string[];
}

const completeMarker = '.complete';

/** True when a previous fetch into this folder finished. */
export function artifactsCached(outputDir: string): boolean {
  return existsSync(join(outputDir, completeMarker));
}

function pomFor(artifacts: MavenCoordinate[]): string {
  const deps = artifacts
    .map((coordinate) => {
      const [groupId, artifactId, version] = coordinate.split(':');
      return `    <dependency><groupId>${groupId}</groupId><artifactId>${artifactId}</artifactId><version>${version}</version></dependency>`;
    })
    .join('\n');
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.tributary</groupId><artifactId>tributary-kit-fetch</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
${deps}
  </dependencies>
</project>
`;
}

/** Maven's last meaningful lines: colour codes and its generic "re-run with -X" advice removed. */
function lastLines(text: string, count: number): string {
  const boilerplate =
    /^\[ERROR\] *$|To see the full stack trace|Re-run Maven|For more information about the errors|\[Help \d+\] http/;
  return (
    text
      // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes
      .replace(/\u001b\[[0-9;]*m/g, '')
      .trimEnd()
      .split('\n')
      .filter((line) => line.trim() !== '' && !boilerplate.test(line))
      .slice(-count)
      .join('\n')
  );
}

/**
 * Fetches jars with the machine's Maven (`dependency:copy-dependencies`, runtime scope) into
 * `outputDir`, once: a finished folder is reused. Maven's own settings decide the repository,
 * so a corporate mirror configured in ~/.m2/settings.xml just works.
 * Throws KIT_MAVEN_MISSING or KIT_FETCH_FAILED (with Maven's last lines).
 */
export async function fetchMavenArtifacts(options: FetchArtifactsOptions): Promise<string> {
  const { outputDir, artifacts, onProgress } = options;
  if (artifactsCached(outputDir)) return outputDir;
  const env = options.env ?? process.env;
  const mvn = findOnPath('mvn', env.PATH);
  if (!mvn) {
    throw new HubError(
      'KIT_MAVEN_MISSING',
      'Maven (mvn) was not found on PATH; the kit fetches the Kafka jars with it',
      {
        hint: 'install Maven (Debian/Ubuntu: `apt-get install -y maven`; macOS: `brew install maven`), or set KAFKA_BROKERS to use an existing broker',
      },
    );
  }
  const work = `${outputDir}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(work, { recursive: true });
  await writeFile(join(work, 'pom.xml'), pomFor(artifacts));
  onProgress?.(
    `fetching ${artifacts.join(', ')} and their dependencies with Maven (once, into ${outputDir}) ...`,
  );
  const started = Date.now();
  const ticker = setInterval(
    () => onProgress?.(`still fetching jars (${Math.round((Date.now() - started) / 1000)} s) ...`),
    10_000,
  );
  try {
    const { code, output } = await runMaven(mvn, work, env, options.mavenArgs ?? [], options.signal);
    if (code !== 0) {
      throw new HubError(
        'KIT_FETCH_FAILED',
        `Maven could not fetch the jars (exit code ${code}):\n${lastLines(output, 15)}`,
        {
          hint: 'check that this machine reaches Maven Central or the mirror in ~/.m2/settings.xml, then run again; or set KAFKA_BROKERS to use an existing broker',
        },
      );
    }
    const libs = join(work, 'libs');
    const jars = (await readdir(libs)).filter((f) => f.endsWith('.jar'));
    await writeFile(join(libs, completeMarker), `${jars.length} jars for ${artifacts.join(' ')}\n`);
    await mkdir(dirname(outputDir), { recursive: true });
    try {
      await rename(libs, outputDir);
    } catch (err) {
      // Another process finished the same fetch first; its copy is as good as ours.
      if (!artifactsCached(outputDir)) throw err;
    }
    onProgress?.(`fetched ${jars.length} jars in ${Math.round((Date.now() - started) / 1000)} s`);
    return outputDir;
  } finally {
    clearInterval(ticker);
    await rm(work, { recursive: true, force: true });
  }
}

function runMaven(
  mvn: string,
  work: string,
  env: NodeJS.ProcessEnv,
  extraArgs: string[],
  signal: AbortSignal | undefined,
): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      mvn,
      [
        '-B',
        '-q',
        '-Dstyle.color=never',
        ...extraArgs,
        '-f',
        'pom.xml',
        'dependency:copy-dependencies',
        '-DoutputDirectory=libs',
        '-DincludeScope=runtime',
      ],
      { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'], ...(signal ? { signal } : {}) },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('error', (err) =>
      reject(new HubError('KIT_FETCH_FAILED', `Maven did not run: ${err.message}`, { cause: err })),
    );
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}
